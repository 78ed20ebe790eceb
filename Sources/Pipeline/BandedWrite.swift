import Imaging

extension UpscalePlan {
    /// Enlarges `image` straight into the file at `path` as `format` with `metadata`, a band of rows at a time:
    /// neither the network's result nor the encoded file is ever held whole. A failure or a cancel (`PipelineError.cancelled`)
    /// removes the partial file; errors are `PipelineError` or, for the file, `ImagingError`.
    package func write(
        _ image: PixelImage, to path: String, format: ImageFormat, encoding: EncodeSettings,
        metadata: ImageMetadata? = nil, progress: (Int, Int) -> Void = { _, _ in }, shouldCancel: () -> Bool = { false }
    ) throws {
        let writer = try StreamingImageWriter(
            path: path, format: format, width: outputSize.width, height: outputSize.height, layout: image.layout,
            bitDepth: image.bitDepth, settings: encoding, metadata: metadata)
        var writeError: ImagingError?
        do {
            try upscaleBands(image, progress: progress, shouldCancel: shouldCancel) { _, band throws(PipelineError) in
                do throws(ImagingError) {
                    try writer.append(band)
                } catch {
                    writeError = error
                    throw .cancelled
                }
            }
            try writer.finish()
        } catch {
            writer.abandon()
            throw writeError ?? error
        }
    }
}
