import Imaging

extension UpscalePlan {
    /// Enlarges `picture` straight into the file at `path` as `format` with `metadata`, a band of rows at a time:
    /// neither the network's result nor the encoded file is ever held whole (nor, for a streamed input, the
    /// picture). A failure or a cancel (`PipelineError.cancelled`) removes the partial file; errors are
    /// `PipelineError` or, for the file, `ImagingError`.
    package func write(
        _ picture: InputPicture, to path: String, format: ImageFormat, encoding: EncodeSettings,
        metadata: ImageMetadata? = nil, progress: (Int, Int) -> Void = { _, _ in }, shouldCancel: () -> Bool = { false }
    ) throws {
        try write(picture.shape, to: path, format: format, encoding: encoding, metadata: metadata) {
            onRows throws(PipelineError) in
            switch picture {
            case .decoded(let image):
                try upscaleBands(image, progress: progress, shouldCancel: shouldCancel, onRows: onRows)
            case .streamed(let input):
                try upscaleBands(input, progress: progress, shouldCancel: shouldCancel, onRows: onRows)
            }
        }
    }

    /// Writes the bands `produce` hands over for an input of `shape` to a temporary file renamed into place at the
    /// end; a failure or a cancel removes it.
    private func write(
        _ shape: PixelShape, to path: String, format: ImageFormat, encoding: EncodeSettings, metadata: ImageMetadata?,
        produce: (_ onRows: (_ firstRow: Int, _ band: PixelImage) throws(PipelineError) -> Void) throws(PipelineError) -> Void
    ) throws {
        let writer = try StreamingImageWriter(
            path: path, format: format, width: outputSize.width, height: outputSize.height, layout: shape.layout,
            bitDepth: shape.bitDepth, settings: encoding, metadata: metadata)
        var writeError: ImagingError?
        do {
            try produce { _, band throws(PipelineError) in
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
