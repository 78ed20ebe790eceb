// How much memory one upscale may take, and whether a result must be streamed to its file to stay within it. The
// whole-picture path holds the result several times over (network output in float, rounded samples, the encoder's
// filtered rows and compressed bytes): fast, but its peak grows with the output's area. The banded path holds a
// band of the output at a time: its peak grows with the output's width only.
#if canImport(Glibc)
import Glibc
#endif
import Imaging

/// The memory an upscale may use, and the choice it implies between the whole-picture and the banded path.
package struct MemoryBudget: Sendable, Equatable {
    /// Bytes one upscale may use.
    package var bytes: Int

    /// A budget of `megabytes` MiB.
    package init(megabytes: Int) { bytes = megabytes << 20 }

    /// The default: a quarter of the machine's memory, at most 1 GiB (a machine whose size is unknown gets 1 GiB).
    package static var automatic: MemoryBudget {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        let physical = pages > 0 && pageSize > 0 ? pages * pageSize : 4 << 30
        return MemoryBudget(megabytes: min(physical / 4, 1 << 30) >> 20)
    }

    /// Bytes the whole-picture path holds per output pixel of `channels` samples of `bitDepth` bits: the network's
    /// float result (kept once in bands and once put together), the rounded samples, and the encoder's copy.
    static func wholeBytesPerPixel(channels: Int, bitDepth: Int) -> Int {
        let sample = bitDepth / 8
        return channels * (2 * 4 + 3 * sample)
    }

    /// The estimated peak of the whole-picture path for a `size` result of a picture of `image`'s shape, in bytes.
    package static func wholePictureBytes(for image: PixelShape, output size: PixelSize) -> Int {
        image.pixelCount * image.layout.channelCount * (image.bitDepth / 8)
            + size.pixels * wholeBytesPerPixel(channels: image.layout.channelCount, bitDepth: image.bitDepth)
    }

    /// The most bytes one row of tiles' output may take on the banded path: a fifth of the budget (the band is held
    /// in float, then as samples and filtered rows, beside the picture and the network's working set).
    package var bandBytes: Int { bytes / 5 }

    /// The most bytes the network's working set may take on the banded path: two fifths of the budget.
    package var networkBytes: Int { bytes / 5 * 2 }

    /// Refuses a `size` result of `image` in `format` that fits neither whole in the budget nor in bands (WebP, whose
    /// encoder takes whole pictures only), with the way out in the message.
    package func check(_ image: PixelShape, output size: PixelSize, format: ImageFormat, source: String) throws(ImagingError) {
        let whole = Self.wholePictureBytes(for: image, output: size)
        guard whole > bytes, !StreamingImageWriter.supports(format) else { return }
        throw ImagingError(
            .tooLarge, source: source,
            message: "the \(size) result needs about \((whole + (1 << 19)) >> 20) MiB as a whole picture, over the "
                + "memory budget of \(bytes >> 20) MiB, and \(format.displayName) can only be written whole: choose PNG "
                + "or JPEG (written a band at a time) or raise --max-memory-mb")
    }

    /// Whether a `size` result of `image` written as `format` goes through the banded path: when its whole-picture
    /// estimate is over the budget and the format can be written a band at a time.
    package func streams(_ image: PixelShape, output size: PixelSize, format: ImageFormat) -> Bool {
        StreamingImageWriter.supports(format) && Self.wholePictureBytes(for: image, output: size) > bytes
    }
}

extension UpscalePlan {
    /// The estimated peak of the banded path for a picture of `image`'s shape, in bytes: the picture (all of it,
    /// or with `streamedInput` the window of rows its bands read), the earlier networks' whole results of a chain,
    /// the network's working set, and one band of the output in its forms.
    package func bandedBytes(for image: PixelShape, streamedInput: Bool = false) -> Int {
        let sample = image.bitDepth / 8
        let channels = image.layout.channelCount
        let last = steps[steps.count - 1].upscaler
        let bandRows = last.networkTileLayout(width: image.width, height: image.height)?.height ?? image.height
        // The rows one band reads with its margins (read from a file in steps of 16): a streamed picture holds only
        // these, and the alpha plane and a Y-only model's planes are made for them.
        let windowRows = min(bandRows + 2 * last.model.tileMargin + 48, image.height)
        let pictureRows = streamedInput && steps.count == 1 ? windowRows : image.height
        var bytes = pictureRows * image.width * channels * sample
        if image.layout.hasAlpha { bytes += windowRows * image.width * 4 }
        // A chain's earlier steps run whole.
        var size = inputSize
        for step in steps.dropLast() {
            size = PixelSize(width: size.width * step.upscaler.model.scale, height: size.height * step.upscaler.model.scale)
            bytes += size.pixels * MemoryBudget.wholeBytesPerPixel(channels: channels, bitDepth: image.bitDepth)
        }
        if last.model.inputChannels == 1 { bytes += size.width * min(size.height, windowRows) * 15 }  // Y, Cr, Cb
        // The network's working set on one tile (the tiles are sized for it).
        let live = size.pixels * (last.model.liveValuesPerInputPixel ?? 3 * last.model.widestFeatureMap) * 4
        bytes += min(live, last.options.networkBytes ?? 3 * TiledNetworkRunner.defaultBudgetBytes)
        // One band of the output: the tiles' and the band's float values, the colour and its planes, the samples.
        let outputRows = (last.networkTileLayout(width: size.width, height: size.height)?.height ?? size.height)
            * last.model.scale
        let outputWidth = size.width * last.model.scale
        bytes += outputWidth * outputRows * channels * (2 * 4 + 3 * sample)
        return bytes
    }
}
