import Hummingbird
import Imaging
import Pipeline

/// The optional query parameters of `POST /enhance` and `POST /api/v1/jobs`.
struct UpscaleParameters: Sendable, Equatable {
    /// `model`: a loaded model's name.
    var model: String?
    /// `scale`: the enlargement wanted, any number from 1 to 16.
    var scale: Double?
    /// `width`: the result's width in pixels (the height follows the aspect ratio).
    var width: Int?
    /// `height`: the result's height in pixels (the width follows the aspect ratio).
    var height: Int?
    /// `format`: png (default), jpg/jpeg or webp.
    var format: ImageFormat = .png
    /// `quality`: 1...100 for JPEG and WebP (100 is lossless WebP); default 95.
    var quality: Int = 95
    /// `png_compression`: 0...9 for PNG results; default 1 (fast, smaller than OpenCV's PNGs).
    var pngCompression: PNGCompression = .default
    /// `tiff_compression`: none, lzw, deflate (default) or jpeg for TIFF results.
    var tiffCompression: TIFFCompression = .deflate
    /// `dpi`: keep (default: the upload's dots per inch), scale (times the enlargement) or a number of dots per inch.
    var dpi: DensityChoice = .keep
    /// The `dpi` text as given (kept in a job's record), nil for keep.
    var dpiText: String?
    /// `tta`: self-ensemble (the eight flips and rotations averaged; eight times the work); default false.
    var selfEnsemble = false
    /// `metadata`: keep (default: the input's EXIF, XMP and resolution, updated) or strip (EXIF and XMP left out;
    /// the colour profile stays).
    var stripMetadata = false
    /// `colour`: keep (default: the stored values, the result carries the upload's profile) or srgb (converted
    /// from the upload's profile to sRGB first, the result tagged sRGB).
    var colour: ColourMode = .keep

    /// What the result carries of the input's metadata, and what decoding does with its colours.
    var metadataPolicy: MetadataPolicy {
        MetadataPolicy(density: dpi, strip: stripMetadata, colour: ColourPolicy(mode: colour))
    }

    /// The size asked for; nil for the model's own scale.
    var request: OutputRequest? {
        if width != nil || height != nil { return .size(width: width, height: height) }
        return scale.map { .factor($0) }
    }

    /// How the result is encoded.
    var encoding: EncodeSettings {
        EncodeSettings(quality: quality, pngCompression: pngCompression, tiffCompression: tiffCompression)
    }

    /// Reads and checks the parameters; unknown parameters are ignored. An empty `model` means the default model;
    /// the others have no empty value (`format=` is a 400, as the API document says).
    init(_ query: Parameters) throws(ServiceError) {
        if let model = query.get("model"), !model.isEmpty { self.model = model }
        if let text = query.get("scale") {
            let number = text.hasPrefix("x") || text.hasPrefix("×") ? String(text.dropFirst()) : text
            guard let scale = Double(number), scale.isFinite, scale >= 1, scale <= OutputRequest.maximumFactor,
                number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") })
            else {
                throw ServiceError(.badRequest, "scale=\(text) is not an enlargement from 1 to 16 such as 2, 2.5 or 4.")
            }
            self.scale = scale
        }
        for (name, keyPath) in [("width", \UpscaleParameters.width), ("height", \UpscaleParameters.height)] {
            guard let text = query.get(name) else { continue }
            guard let value = Int(text), (1...1_000_000).contains(value) else {
                throw ServiceError(.badRequest, "\(name)=\(text) is not a whole number of pixels from 1 to 1000000.")
            }
            self[keyPath: keyPath] = value
        }
        if scale != nil, width != nil || height != nil {
            throw ServiceError(.badRequest, "Give scale or a size (width, height), not both.")
        }
        if let text = query.get("format") {
            guard let format = ImageFormat(fileExtension: text) else {
                throw ServiceError(.badRequest, "format=\(text) is not one of png, jpg, webp or tif.")
            }
            self.format = format
        }
        if let text = query.get("quality") {
            guard let quality = Int(text), (1...100).contains(quality) else {
                throw ServiceError(.badRequest, "quality=\(text) is not a whole number from 1 to 100.")
            }
            self.quality = quality
        }
        if let text = query.get("tta") {
            switch text.lowercased() {
            case "true", "1", "yes", "on": selfEnsemble = true
            case "false", "0", "no", "off": selfEnsemble = false
            default: throw ServiceError(.badRequest, "tta=\(text) is not true or false.")
            }
        }
        if let text = query.get("metadata") {
            switch text.lowercased() {
            case "keep": stripMetadata = false
            case "strip": stripMetadata = true
            default: throw ServiceError(.badRequest, "metadata=\(text) is not keep or strip.")
            }
        }
        if let text = query.get("colour") {
            guard let mode = ColourMode(rawValue: text.lowercased()) else {
                throw ServiceError(.badRequest, "colour=\(text) is not keep or srgb.")
            }
            colour = mode
        }
        if let text = query.get("tiff_compression") {
            guard let compression = TIFFCompression(rawValue: text.lowercased()) else {
                throw ServiceError(.badRequest, "tiff_compression=\(text) is not none, lzw, deflate or jpeg.")
            }
            tiffCompression = compression
        }
        if let text = query.get("dpi") {
            guard let choice = DensityChoice(argument: text.lowercased()) else {
                throw ServiceError(
                    .badRequest, "dpi=\(text) is not keep, scale or a number of dots per inch from 1 to 65535.")
            }
            dpi = choice
            dpiText = choice == .keep ? nil : text.lowercased()
        }
        if let text = query.get("png_compression") {
            guard let level = Int(text), let compression = PNGCompression(level: level) else {
                throw ServiceError(.badRequest, "png_compression=\(text) is not a whole number from 0 to 9.")
            }
            self.pngCompression = compression
        }
    }
}
