import ArgumentParser
import Foundation
import Imaging
import Models

/// `superres info MODEL`
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: """
            Describe a model (family, scale, operations, parameters, cost per pixel) or an image file (format, \
            size, layout, noise level, EXIF orientation, JPEG quality).
            """)

    @Argument(help: "A model (a catalogue name or a model file), or an image file (PNG, JPEG or WebP).")
    var model: String

    func run() throws {
        if try describeImage() { return }
        let loaded = try CommandLineFailure.reporting { try ModelLoader.load(nameOrPath: model) }
        let size = (try? FileManager.default.attributesOfItem(atPath: loaded.source)[.size] as? Int) ?? 0
        print("model:       \(loaded.source) (\(size) bytes)")
        print("family:      \(loaded.family.rawValue)")
        print("scale:       ×\(loaded.scale)")
        print("input:       \(loaded.inputChannels == 3 ? "BGR, 3 channels" : "Y (luma), 1 channel")")
        print("output:      \(loaded.outputName)")
        print("parameters:  \(loaded.parameterCount.formatted())")
        print("FLOPs/pixel: \(loaded.flopsPerInputPixel.formatted()) per input pixel (\(String(format: "%.2f", Double(loaded.flopsPerInputPixel) / 1e6)) MFLOP)")
        print("tile margin: \(loaded.tileMargin) input pixels (receptive field radius)")
        print("operations in the file:")
        for (op, count) in loaded.fileOperationCounts.sorted(by: { $0.key < $1.key }) {
            print("  \(op.padding(toLength: 14, withPad: " ", startingAt: 0)) \(count)")
        }
        print("after fusion:")
        for (op, count) in loaded.executor.graph.operationCounts.sorted(by: { $0.key < $1.key }) {
            print("  \(op.padding(toLength: 14, withPad: " ", startingAt: 0)) \(count)")
        }
    }

    /// Prints what the image file `model` names is, and returns true; false when it is not an image file.
    private func describeImage() throws -> Bool {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: model, isDirectory: &isFolder), !isFolder.boolValue,
            let data = FileManager.default.contents(atPath: model)
        else { return false }
        let bytes = [UInt8](data)
        guard let header = try? ImageCodec.probe(bytes, source: model) else { return false }
        let image = try CommandLineFailure.reporting { try ImageCodec.decode(bytes, source: model) }
        let layouts: [PixelLayout: String] = [.grey: "grey", .greyAlpha: "grey + alpha", .rgb: "RGB", .rgba: "RGBA"]
        print("image:        \(model) (\(bytes.count) bytes)")
        print("format:       \(header.format.displayName)")
        print("size:         \(image.width)×\(image.height), \(layouts[image.layout] ?? "?"), \(image.bitDepth)-bit")
        if let sigma = NoiseLevel.estimate(Self.luma(of: image)) {
            print("noise:        σ ≈ \(String(format: "%.1f", sigma)) grey levels (Liu, Tanaka & Okutomi 2013, on the luma)")
        }
        guard header.format == .jpeg else { return true }
        if let orientation = ExifOrientation(jpeg: bytes), orientation != .up {
            print("orientation:  EXIF \(orientation.rawValue) (the size above is upright)")
        }
        if let quality = JPEGQuality(jpeg: bytes) {
            let how =
                quality.isExact
                ? "libjpeg's tables at that quality"
                : String(format: "nearest libjpeg quality; tables differ by %.1f on average", quality.meanDifference)
            print("JPEG quality: \(quality.quality) (\(how))")
        } else {
            print("JPEG quality: unknown (no quantisation table before the first scan)")
        }
        return true
    }

    /// The luma (BT.601 weights, 0...255) of an 8- or 16-bit image: OpenCV's `RGB2GRAY` on its 8-bit samples.
    static func luma(of image: PixelImage) -> FloatPlane {
        let samples = ImageCodec.eightBitSamples(of: image).map(Float.init)
        let channels = image.layout.channelCount
        let values =
            image.layout.isGrey
            ? stride(from: 0, to: samples.count, by: channels).map { samples[$0] }
            : ColourConversion.rgbToGrey(samples, channelCount: channels)
        return FloatPlane(width: image.width, height: image.height, values: values)
    }
}
