import Engine
import Imaging
import Models
import Tensor

/// How the Cr and Cb channels of a Y-only model (ESPCN, FSRCNN, LapSRN) are enlarged.
package enum ChromaInterpolation: String, Sendable, CaseIterable {
    /// `cv::resize` INTER_LINEAR, as OpenCV's dnn_superres does (the default: same pixels as OpenCV).
    case bilinear
    /// `cv::resize` INTER_CUBIC: slightly sharper colour edges.
    case bicubic
}

/// Settings of one upscale.
package struct UpscaleOptions: Sendable {
    /// Tile core size in input pixels; nil picks one from the model's size, 0 runs the whole image at once.
    package var tileSize: Int?
    /// How Cr and Cb are enlarged for Y-only models (bilinear by default, as OpenCV does); unused by other families.
    package var chroma: ChromaInterpolation
    /// SRMD's noise level, 0...75 (srmd-ncnn-vulkan's `-n` and beyond; nil: its default, 3); -1 (no denoising) is the
    /// SRMD-NF model, which takes none. Other families take none.
    package var noiseLevel: Int?
    /// Self-ensemble: the eight flips and rotations through the network, averaged in float (eight times the work).
    package var selfEnsemble: Bool
    /// The most bytes one row of tiles' output may take in float (nil: no limit): a streamed result caps its bands
    /// so that its memory follows the picture's width only. Only the automatic tiling follows it.
    package var bandBytes: Int?
    /// With `bandBytes`: the most bytes the network's working set may take on one tile (all its live values).
    package var networkBytes: Int?

    /// Settings of one upscale; by default an automatic tile size, bilinear chroma, SRMD's default noise level and no
    /// self-ensemble.
    package init(
        tileSize: Int? = nil, chroma: ChromaInterpolation = .bilinear, noiseLevel: Int? = nil,
        selfEnsemble: Bool = false
    ) {
        self.tileSize = tileSize
        self.chroma = chroma
        self.noiseLevel = noiseLevel
        self.selfEnsemble = selfEnsemble
    }
}

/// Enlarges pictures with one model, with the pre- and post-processing of its family's reference program.
///
/// Each family's handling lives in `Families/` (EDSR and the Y-channel models as OpenCV's dnn_superres feeds them;
/// SRMD and Real-ESRGAN as srmd-ncnn-vulkan and Real-ESRGAN-ncnn-vulkan do), chosen once here. Grey images stay
/// grey, alpha is enlarged separately (bicubic) and kept, 16-bit images are processed in float and written back at
/// 16 bits.
package struct Upscaler: Sendable {
    /// The network.
    package let model: SuperResolutionModel
    /// Tiling, chroma interpolation and noise level.
    package let options: UpscaleOptions
    /// The family's pre- and post-processing.
    let processing: any FamilyProcessing

    /// An upscaler running `model` with `options`.
    package init(model: SuperResolutionModel, options: UpscaleOptions = UpscaleOptions()) {
        self.model = model
        self.options = options
        processing = model.family.processing
    }

    /// The enlarged image; same layout and bit depth as `image`, `scale` times its width and height, or `size` when
    /// given (no larger than that): the network's result shrunk by `filter` in float, before rounding.
    ///
    /// `progress(done, total)` reports finished tiles; `shouldCancel` is asked before each tile and between the
    /// whole-image steps around the network (colour conversion, chroma and alpha enlargement, assembly).
    package func upscale(
        _ image: PixelImage, to size: PixelSize? = nil, filter: ResizeFilter = .default,
        progress: (Int, Int) -> Void = { _, _ in }, shouldCancel: () -> Bool = { false }
    ) throws(PipelineError) -> PixelImage {
        var samples8: [UInt8] = []
        var samples16: [UInt16] = []
        let expected = (size ?? PixelSize(width: image.width * model.scale, height: image.height * model.scale)).pixels
        if image.bitDepth == 8 {
            samples8.reserveCapacity(expected * image.layout.channelCount)
        } else {
            samples16.reserveCapacity(expected * image.layout.channelCount)
        }
        var layout = image.layout
        var outputSize = PixelSize(width: 0, height: 0)
        try upscaleBands(image, to: size, filter: filter, progress: progress, shouldCancel: shouldCancel) {
            _, band throws(PipelineError) in
            layout = band.layout
            outputSize = PixelSize(width: band.width, height: outputSize.height + band.height)
            switch band.samples {
            case .uint8(let values): samples8 += values
            case .uint16(let values): samples16 += values
            }
        }
        if shouldCancel() { throw .cancelled }
        return image.bitDepth == 8
            ? PixelImage(width: outputSize.width, height: outputSize.height, layout: layout, uint8: samples8)
            : PixelImage(width: outputSize.width, height: outputSize.height, layout: layout, uint16: samples16)
    }

    /// The enlarged image as `upscale` makes it, handed over in bands of full-width rows, top to bottom:
    /// `onRows(firstRow, band)`. Without self-ensemble only a band of the output is held at a time (plus the picture
    /// and, for Y-only models, its Y, Cr and Cb planes); self-ensemble enlarges the whole picture first.
    package func upscaleBands(
        _ image: PixelImage, to size: PixelSize? = nil, filter: ResizeFilter = .default,
        progress: (Int, Int) -> Void = { _, _ in }, shouldCancel: () -> Bool = { false },
        onRows: (_ firstRow: Int, _ band: PixelImage) throws(PipelineError) -> Void
    ) throws(PipelineError) {
        try upscaleBands(
            ImagePlanes(image), to: size, filter: filter, progress: progress, shouldCancel: shouldCancel,
            onRows: onRows)
    }

    /// `upscaleBands` of `planes`: a decoded picture, or a file decoded a band of rows at a time as the network
    /// reaches them (only the rows the current band and its margins read are held; self-ensemble decodes the
    /// whole picture; errors of the file are `PipelineError.input`).
    func upscaleBands(
        _ planes: ImagePlanes, to size: PixelSize?, filter: ResizeFilter, progress: (Int, Int) -> Void,
        shouldCancel: () -> Bool, onRows: (_ firstRow: Int, _ band: PixelImage) throws(PipelineError) -> Void
    ) throws(PipelineError) {
        let natural = PixelSize(width: planes.width * model.scale, height: planes.height * model.scale)
        let target = size ?? natural
        guard target.width >= 1, target.height >= 1, target.width <= natural.width, target.height <= natural.height
        else {
            throw .badSize(
                "\(target) is not between 1×1 and this model's \(natural) for a \(planes.width)×\(planes.height) input")
        }
        if shouldCancel() { throw .cancelled }
        var assembler = BandAssembler(
            planes: planes, natural: natural, target: target, filter: filter, upscaler: self)
        if options.selfEnsemble {
            let colour = try enlargeEnsemble(planes, processing: processing, progress: progress, shouldCancel: shouldCancel)
            if shouldCancel() { throw .cancelled }
            try assembler.add(colour, rows: natural.height, onRows: onRows)
        } else {
            try processing.enlargeBands(planes, with: self, progress: progress, shouldCancel: shouldCancel) {
                _, rows, colour throws(PipelineError) in
                if shouldCancel() { throw .cancelled }
                try assembler.add(colour, rows: rows, onRows: onRows)
            }
        }
    }

    /// The mean of the family's result on the eight flips and rotations of `planes`, each turned back first;
    /// progress counts the tiles of all eight runs.
    func enlargeEnsemble(
        _ planes: ImagePlanes, processing: any FamilyProcessing, progress: (Int, Int) -> Void,
        shouldCancel: () -> Bool
    ) throws(PipelineError) -> ImagePlanes.Colour {
        let transforms = ExifOrientation.allCases
        var sum: ImagePlanes.Colour?
        for (index, transform) in transforms.enumerated() {
            let colour = try processing.enlarge(
                try planes.transformed(transform), with: self,
                progress: { done, total in progress(index * total + done, transforms.count * total) },
                shouldCancel: shouldCancel)
            if shouldCancel() { throw .cancelled }
            // The enlarged transformed picture, turned back to the original's orientation.
            let (w, h) = transform.swapsAxes ? (planes.height, planes.width) : (planes.width, planes.height)
            let upright = colour.transformed(transform.inverse, width: w * model.scale, height: h * model.scale)
            sum = sum.map { $0.adding(upright) } ?? upright
        }
        guard let sum else { throw .unsupportedImage("no transform was run") }
        return sum.scaled(by: 1 / Float(transforms.count))
    }

    /// Whether the model takes a noise level (SRMD; not SRMD-NF).
    package var takesNoiseLevel: Bool { processing.takesNoiseLevel(model) }

    /// The same model and options with self-ensemble on.
    package func withSelfEnsemble() -> Upscaler {
        var options = options
        options.selfEnsemble = true
        return Upscaler(model: model, options: options)
    }

    /// The same model and options with another noise level.
    package func withNoiseLevel(_ level: Int) -> Upscaler {
        var options = options
        options.noiseLevel = level
        return Upscaler(model: model, options: options)
    }

    /// The same model and options with rows of tiles whose output takes at most `band` bytes and whose network
    /// working set takes at most `network` bytes (`bandBytes`, `networkBytes`).
    package func limitingMemory(band: Int, network: Int) -> Upscaler {
        var options = options
        options.bandBytes = band
        options.networkBytes = network
        return Upscaler(model: model, options: options)
    }

    /// The tiling for a network input of `width × height`: the user's square tiles (`tileSize`, 0 for none) or the
    /// automatic layout. With `bandBytes`, the automatic layout is kept when its rows of tiles fit that cap (the
    /// output's rows in float RGB) and a tile's working set fits `networkBytes` (then a banded result has the whole
    /// result's pixels); otherwise tiles are made to fit both.
    func networkTileLayout(width: Int, height: Int) -> TileLayout? {
        if let size = options.tileSize { return size > 0 ? .square(size) : nil }
        let usual = TiledNetworkRunner.automaticLayout(for: model, width: width, height: height)
        guard let bandBytes = options.bandBytes else { return usual }
        let s = model.scale
        let margin = model.tileMargin
        let live = model.liveValuesPerInputPixel ?? 3 * model.widestFeatureMap
        let networkBytes = options.networkBytes ?? TiledNetworkRunner.defaultBudgetBytes
        // At least twice the margin in rows, so that a tiny budget costs at most about twice the work.
        let maxRows = max(2 * margin, 8, bandBytes / (width * s * s * 3 * 4))
        let tile = usual ?? TileLayout(width: width, height: height)
        let tileInput = min(tile.width + 2 * margin, width) * min(tile.height + 2 * margin, height)
        if tile.height <= maxRows, tileInput * live * 4 <= networkBytes { return usual }
        return TiledNetworkRunner.automaticLayout(
            channels: live, margin: margin, width: width, height: height, budgetBytes: networkBytes, maxRows: maxRows)
    }

    /// Runs the network on `input`, in the tiles `options` ask for, handing over its NHWC output a band of rows at
    /// a time (`onBand(firstRow, band)`, the band the caller's to change in place).
    func runNetworkBands(
        _ input: NetworkInput, progress: (Int, Int) -> Void, shouldCancel: () -> Bool,
        onBand: (_ firstRow: Int, _ band: inout Tensor) throws(PipelineError) -> Void
    ) throws(PipelineError) {
        try TiledNetworkRunner.runBands(
            model, input: input, layout: networkTileLayout(width: input.width, height: input.height),
            progress: progress, shouldCancel: shouldCancel, onBand: onBand)
    }

    /// The alpha plane (or the `part` of it that `alpha` holds) enlarged to `size` by OpenCV's bicubic resize (only
    /// the output rows `rows` when given), clamped to the range of `bitDepth` (the cubic overshoots).
    func enlargeAlpha(
        _ alpha: FloatPlane, to size: PixelSize, rows: Range<Int>? = nil, part: PlanePart? = nil, bitDepth: Int
    ) -> FloatPlane {
        let enlarged = Resize.openCVCubic(alpha, toWidth: size.width, toHeight: size.height, rows: rows, part: part)
        let maximum = Float((1 << bitDepth) - 1)
        return FloatPlane(
            width: enlarged.width, height: enlarged.height, values: enlarged.values.map { min(max($0, 0), maximum) })
    }
}
