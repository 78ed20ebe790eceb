import ArgumentParser
import Foundation
import Imaging
import ModelStore
import Models
import Pipeline

/// `superres info MODEL`
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: """
            Describe a model (family, scale, operations, parameters, cost per pixel) or an image file (format, \
            size, layout, colour profile, EXIF, XMP, resolution, noise level, JPEG quality).
            """)

    @Argument(help: "A model (a catalogue name or a model file), or an image file (PNG, JPEG, WebP or TIFF).")
    var model: String

    /// What the network takes per pixel, as its family's pre-processing makes it.
    static func inputDescription(_ model: SuperResolutionModel) -> String {
        switch model.family {
        case .edsr: "BGR, 3 channels"
        case .espcn, .fsrcnn, .lapsrn: "Y (luma), 1 channel"
        case .srmd: "RGB and \(model.inputChannels - 3) degradation maps, \(model.inputChannels) channels"
        case .realesrgan, .span, .realcugan, .onnx: "RGB, 3 channels"
        }
    }

    func run() throws {
        if try describeImage() { return }
        let loaded = try CommandLineFailure.reporting { try ModelLoader.load(nameOrPath: model) }
        let size = (try? FileManager.default.attributesOfItem(atPath: loaded.source)[.size] as? Int) ?? 0
        print("model:       \(loaded.source) (\(size) bytes)")
        print("family:      \(loaded.family.rawValue)")
        print("scale:       ×\(loaded.scale)")
        print("input:       \(Self.inputDescription(loaded))")
        print("output:      \(loaded.outputName)")
        print("parameters:  \(loaded.parameterCount.formatted())")
        print("FLOPs/pixel: \(loaded.flopsPerInputPixel.formatted()) per input pixel (\(String(format: "%.2f", Double(loaded.flopsPerInputPixel) / 1e6)) MFLOP)")
        if loaded.borderLoss > 0 {
            print("tile margin: \(loaded.tileMargin) input pixels (the border its unpadded convolutions lose)")
        } else {
            print("tile margin: \(loaded.tileMargin) input pixels (receptive field radius)")
        }
        if let live = loaded.liveValuesPerInputPixel {
            print("working set: \(live) values per input pixel at its peak (\(live * 4) bytes, how tiles are sized)")
        }
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
        let metadata = ImageMetadata(reading: bytes).summary
        for line in metadata.isEmpty ? ["none (no colour profile, EXIF, XMP or resolution)"] : metadata {
            print("metadata:     \(line)")
        }
        let estimate = DegradationEstimate.analyse(image, encoded: bytes)
        if let sigma = estimate.noiseSigma {
            print("noise:        σ ≈ \(String(format: "%.1f", sigma)) grey levels (Liu, Tanaka & Okutomi 2013, on the luma)")
        }
        if let blockiness = estimate.blockiness {
            let looksLike =
                header.format != .jpeg && estimate.effectiveQuality < 100
                ? "; like a JPEG of quality ≈ \(Int(estimate.effectiveQuality.rounded()))"
                : header.format != .jpeg ? "; no sign of JPEG compression" : ""
            print("blockiness:   \(String(format: "%.2f", blockiness)) (8×8 block-edge ratio, 1 = none\(looksLike))")
        }
        defer { print("auto model:   \(Self.autoChoice(estimate))") }
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

    /// What `--model auto` does with an input of this estimate, at each scale it supports.
    static func autoChoice(_ estimate: DegradationEstimate) -> String {
        let scales = AutoModels.scales.map { "x\($0)" }.joined(separator: "/")
        switch AutoModelPolicy.choose(estimate) {
        case .clean:
            let names = AutoModels.scales.compactMap { AutoModels.cleanModels[$0] }
            let unique = names.enumerated().filter { !names[..<$0.offset].contains($0.element) }.map(\.element)
            return "clean model (\(unique.joined(separator: ", ")))"
        case .denoise(let level): return "SRMD (srmd-\(scales)), noise level \(level)"
        }
    }
}
