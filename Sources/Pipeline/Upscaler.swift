import Engine
import Imaging
import Models
import Tensor

/// How the Cr and Cb channels of a Y-only model (ESPCN, FSRCNN, LapSRN) are enlarged.
public enum ChromaInterpolation: String, Sendable, CaseIterable {
    /// `cv::resize` INTER_LINEAR, as OpenCV's dnn_superres does (the default: same pixels as OpenCV).
    case bilinear
    /// `cv::resize` INTER_CUBIC: slightly sharper colour edges.
    case bicubic
}

/// Settings of one upscale.
public struct UpscaleOptions: Sendable {
    /// Tile core size in input pixels; nil picks one from the model's size, 0 runs the whole image at once.
    public var tileSize: Int?
    public var chroma: ChromaInterpolation
    /// SRMD's noise level, 0...75 (srmd-ncnn-vulkan's `-n` and beyond; nil: its default, 3); -1 (no denoising) is the
    /// SRMD-NF model, which takes none. Other families take none.
    public var noiseLevel: Int?

    public init(tileSize: Int? = nil, chroma: ChromaInterpolation = .bilinear, noiseLevel: Int? = nil) {
        self.tileSize = tileSize
        self.chroma = chroma
        self.noiseLevel = noiseLevel
    }
}

/// Enlarges pictures with one model, with the pre- and post-processing of OpenCV's dnn_superres for its family.
///
/// EDSR: BGR float minus the DIV2K mean, network, plus the mean, rounded to 8 bits. ESPCN/FSRCNN/LapSRN: 8-bit BGR
/// to YCrCb (OpenCV's integer arithmetic), Y/255 through the network, Cr and Cb enlarged by `cv::resize`, merged,
/// ×255 to 8 bits, back to BGR. SRMD and Real-ESRGAN (ncnn): as srmd-ncnn-vulkan and Real-ESRGAN-ncnn-vulkan feed
/// them (`Upscaler+SRMD.swift`, `Upscaler+RealESRGAN.swift`). Grey images stay grey, alpha is enlarged separately
/// (bicubic) and kept, 16-bit images are processed in float and written back at 16 bits.
public struct Upscaler: Sendable {
    public let model: SuperResolutionModel
    public let options: UpscaleOptions

    /// The DIV2K mean that EDSR was trained with, in B, G, R order.
    public static let div2kMeanBGR: [Float] = [103.1545782, 111.561547, 114.35629928]

    public init(model: SuperResolutionModel, options: UpscaleOptions = UpscaleOptions()) {
        self.model = model
        self.options = options
    }

    /// The enlarged image; same layout and bit depth as `image`, `scale` times its width and height.
    ///
    /// `progress(done, total)` reports finished tiles; `shouldCancel` is asked before each tile and between the
    /// whole-image steps around the network (colour conversion, chroma and alpha enlargement, assembly).
    public func upscale(
        _ image: PixelImage, progress: (Int, Int) -> Void = { _, _ in }, shouldCancel: () -> Bool = { false }
    ) throws(PipelineError) -> PixelImage {
        if shouldCancel() { throw .cancelled }
        let planes = ImagePlanes(image)
        if shouldCancel() { throw .cancelled }
        let colour: ImagePlanes.Colour
        switch model.family {
        case .edsr:
            colour = try upscaleEDSR(planes, progress: progress, shouldCancel: shouldCancel)
        case .espcn, .fsrcnn, .lapsrn:
            colour = try upscaleLuma(planes, progress: progress, shouldCancel: shouldCancel)
        case .srmd:
            colour = try upscaleSRMD(planes, progress: progress, shouldCancel: shouldCancel)
        case .realesrgan:
            colour = try upscaleRealESRGAN(planes, progress: progress, shouldCancel: shouldCancel)
        }
        if shouldCancel() { throw .cancelled }
        let alpha = planes.alpha.map { enlargeAlpha($0, bitDepth: image.bitDepth) }
        if shouldCancel() { throw .cancelled }
        return planes.assemble(colour: colour, alpha: alpha, width: image.width * model.scale,
            height: image.height * model.scale)
    }

    /// The tiling for a network input of `width × height`: the user's square tiles (`tileSize`, 0 for none) or the
    /// automatic layout.
    func networkTileLayout(width: Int, height: Int) -> TileLayout? {
        if let size = options.tileSize { return size > 0 ? .square(size) : nil }
        return TiledNetworkRunner.automaticLayout(for: model, width: width, height: height)
    }

    // MARK: EDSR

    func upscaleEDSR(
        _ planes: ImagePlanes, progress: (Int, Int) -> Void, shouldCancel: () -> Bool
    ) throws(PipelineError) -> ImagePlanes.Colour {
        let (w, h) = (planes.width, planes.height)
        let mean = Self.div2kMeanBGR
        // BGR floats in 0...255 (16-bit samples are scaled down to that range), minus the mean.
        let bgr = planes.bgrFloats255()
        var input = [Float](repeating: 0, count: w * h * 3)
        for p in 0..<(w * h) {
            for c in 0..<3 { input[p * 3 + c] = bgr[p * 3 + c] - mean[c] }
        }
        let output = try TiledNetworkRunner.run(
            model, input: Tensor(shape: [1, h, w, 3], scalars: input),
            layout: networkTileLayout(width: w, height: h), progress: progress, shouldCancel: shouldCancel)
        var result = output.scalars
        let pixels = result.count / 3
        for p in 0..<pixels {
            for c in 0..<3 { result[p * 3 + c] += mean[c] }
        }
        return .bgr255(result)
    }

    // MARK: Y-channel models

    func upscaleLuma(
        _ planes: ImagePlanes, progress: (Int, Int) -> Void, shouldCancel: () -> Bool
    ) throws(PipelineError) -> ImagePlanes.Colour {
        let (w, h, s) = (planes.width, planes.height, model.scale)
        let ycrcb = planes.ycrcbUnit()
        let luma = Tensor(shape: [1, h, w, 1], scalars: ycrcb.y)
        let output = try TiledNetworkRunner.run(
            model, input: luma, layout: networkTileLayout(width: w, height: h),
            progress: progress, shouldCancel: shouldCancel)
        guard let cr = ycrcb.cr, let cb = ycrcb.cb else { return .greyUnit(output.scalars) }
        if shouldCancel() { throw .cancelled }
        let enlarge: (FloatPlane) -> FloatPlane
        switch options.chroma {
        case .bilinear: enlarge = { Resize.openCVLinear($0, toWidth: w * s, toHeight: h * s) }
        case .bicubic: enlarge = { Resize.openCVCubic($0, toWidth: w * s, toHeight: h * s) }
        }
        let enlargedCr = enlarge(FloatPlane(width: w, height: h, values: cr)).values
        if shouldCancel() { throw .cancelled }
        return .ycrcbUnit(
            y: output.scalars, cr: enlargedCr, cb: enlarge(FloatPlane(width: w, height: h, values: cb)).values)
    }

    // MARK: Alpha

    func enlargeAlpha(_ alpha: FloatPlane, bitDepth: Int) -> FloatPlane {
        Resize.openCVCubic(alpha, toWidth: alpha.width * model.scale, toHeight: alpha.height * model.scale)
    }
}
