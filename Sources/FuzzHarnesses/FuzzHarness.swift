// What each fuzz target feeds its bytes to: the code that parses untrusted files and requests. Used by the libFuzzer
// driver (`scripts/fuzz`) and by the seed-corpus tests, so both exercise exactly the same entry points.
import Engine
import Foundation
import Imaging
import Models
import MultipartForms
import NIOCore

/// A parser of untrusted bytes, and how one fuzz input is fed to it.
package enum FuzzHarness: String, CaseIterable, Sendable {
    /// PNG header probe and decode (libpng through CImageShims).
    case png
    /// JPEG header probe and decode, EXIF orientation applied (libjpeg-turbo through CImageShims).
    case jpeg
    /// WebP header probe and decode (libwebp through CImageShims).
    case webp
    /// TIFF header probe and decode of the first page (libtiff through CImageShims).
    case tiff
    /// PNG, JPEG and TIFF files decoded a band of rows at a time from a file, as huge inputs are (libpng rows,
    /// libjpeg scanlines, libtiff strips and tiles from a descriptor): the whole decode's pixels when both read it.
    case rows
    /// The JPEG header readers of Imaging: EXIF orientation (the input as a JPEG and as a bare TIFF structure) and
    /// the quantisation tables behind the quality estimate.
    case exif
    /// The metadata readers (PNG chunks, JPEG segments, WebP chunks through libwebp's demuxer, EXIF blocks, ICC
    /// headers, XMP) and the writers of what they read: the input as an image file and as a bare EXIF block.
    case metadata
    /// The protobuf reader and GraphDef parser, then the TensorFlow importer and model checks.
    case graphdef
    /// The ncnn `.param` text reader, then the importer with zero-filled weights.
    case ncnnParam = "ncnn-param"
    /// The ncnn `.bin` weight reader, under a fixed small `.param`.
    case ncnnBin = "ncnn-bin"
    /// The ONNX reader and importer (no external data), then the loader's checks for image networks.
    case onnx
    /// The multipart/form-data intake of `/enhance` and `/api/v1/jobs` (boundary `fuzz`), header probe included.
    case multipart

    /// What the parser made of one input.
    package enum Outcome: Equatable, Sendable {
        /// The input was read as valid.
        case accepted
        /// The input was refused with a typed error (its description).
        case refused(String)
    }

    /// The largest image a fuzz input may decode to: enough for every seed, small enough for fast executions.
    package static let maxPixels = 1 << 20

    /// The multipart boundary the `multipart` harness parses with.
    package static let multipartBoundary = "fuzz"

    /// Feeds `bytes` to the parser; any failure must be a typed error, never a trap.
    package func run(_ bytes: [UInt8]) -> Outcome {
        do {
            switch self {
            case .png, .jpeg, .webp, .tiff:
                let limits = DecodeLimits(maxPixels: Self.maxPixels)
                let header = try ImageCodec.probe(bytes, source: "fuzz")
                guard header.pixelCount <= Self.maxPixels else { return .refused("too large") }
                let image = try ImageCodec.decode(bytes, source: "fuzz", limits: limits)
                guard image.width == header.width, image.height == header.height else {
                    // The probe and the decoder must agree on every file both accept.
                    fatalError("probe said \(header.width)×\(header.height), decode gave \(image.width)×\(image.height)")
                }
            case .rows:
                return try Self.readByRows(bytes)
            case .exif:
                let fromJPEG = ExifOrientation(jpeg: bytes)
                let fromTIFF = ExifOrientation(tiff: bytes)
                let quality = JPEGQuality(jpeg: bytes)
                if let quality, !(1...100).contains(quality.quality) { fatalError("quality \(quality.quality)") }
                guard fromJPEG != nil || fromTIFF != nil else { return .refused("no orientation") }
            case .metadata:
                let read = ImageMetadata(reading: bytes)
                let output = read.enlarged(
                    from: 7, 5, to: 21, 15, layout: .rgb, policy: MetadataPolicy(density: .scale))
                _ = output.pngChunkBytes()
                _ = output.jpegSegmentBytes()
                _ = read.summary
                let block = ExifBlock(bytes)
                // What `updated` gives must read back upright (it says nil for blocks it cannot update).
                if let updated = block?.updated(width: 70_000, height: 3, density: PixelDensity(x: 72, y: 72)),
                    ExifBlock(updated).map({ $0.orientation == nil || $0.orientation == .up }) != true
                {
                    fatalError("an updated EXIF block no longer reads as upright")
                }
                _ = XMPPacket.updated(bytes, width: 3, height: 4, density: nil)
                guard !read.isEmpty || block != nil else { return .refused("no metadata") }
            case .graphdef:
                let def = try GraphDef(serializedBytes: bytes)
                let graph = try TensorFlowImporter.makeGraph(def, source: "fuzz.pb")
                _ = try ModelLoader.make(
                    graph: graph, format: .tensorFlow, source: "fuzz.pb", fileOperationCounts: def.opCounts, family: nil, scale: nil,
                    kernels: .reference)
            case .ncnnParam:
                let param = try NCNNParam(text: String(decoding: bytes, as: UTF8.self), source: "fuzz.param")
                // Zeros for every weight: first as many as any small network needs, then exactly as many as it read
                // (the importer refuses a .bin with bytes left over).
                let plenty = 1 << 16
                var weights = NCNNModelBin(data: Data(count: plenty), source: "fuzz.bin")
                let graph: Graph
                do {
                    graph = try NCNNImporter.makeGraph(param, weights: &weights, source: "fuzz.param")
                } catch {
                    guard weights.remaining > 0 else { throw error }
                    var exact = NCNNModelBin(data: Data(count: plenty - weights.remaining), source: "fuzz.bin")
                    graph = try NCNNImporter.makeGraph(param, weights: &exact, source: "fuzz.param")
                }
                _ = try ModelLoader.make(
                    graph: graph, format: .ncnn, source: "fuzz.param", fileOperationCounts: NCNNImporter.layerCounts(param),
                    family: nil, scale: nil, kernels: .reference)
            case .onnx:
                let model = try ONNXModel(serializedBytes: bytes)
                let graph = try ONNXImporter.makeGraph(model, source: "fuzz.onnx", folder: nil)
                // Operator graphs of other channel counts stop at the import; image networks go through the loader's
                // probing too (whose refusals are not the importer's).
                _ = try? ModelLoader.make(
                    graph: graph, format: .onnx, source: "fuzz.onnx", fileOperationCounts: ONNXImporter.operationCounts(model),
                    family: nil, scale: nil, kernels: .reference)
            case .ncnnBin:
                let param = try NCNNParam(text: Self.binHarnessParam, source: "fuzz.param")
                var weights = NCNNModelBin(data: Data(bytes), source: "fuzz.bin")
                _ = try NCNNImporter.makeGraph(param, weights: &weights, source: "fuzz.param")
            case .multipart:
                // What the service does with an upload before queueing it: the form within its limits, then the
                // header of the `image` field's file.
                let body = ByteBuffer(bytes: bytes)
                let parts = try MultipartForm.parse(
                    body, boundary: Self.multipartBoundary, maxParts: MultipartForm.uploadMaxParts,
                    maxHeaderBytes: MultipartForm.uploadMaxHeaderBytes)
                guard let image = parts.first(where: { $0.name == "image" }), !image.content.isEmpty,
                    let file = body.getBytes(
                        at: body.readerIndex + image.content.lowerBound, length: image.content.count)
                else { return .refused("no image field") }
                _ = image.filename
                let header = try ImageCodec.probe(file, source: "upload")
                guard header.pixelCount <= Self.maxPixels else { return .refused("too large") }
            }
            return .accepted
        } catch {
            return .refused("\(error)")
        }
    }

    /// The `rows` harness: `bytes` written to a file of its own and decoded from it in bands of 7 rows.
    private static func readByRows(_ bytes: [UInt8]) throws -> Outcome {
        // Unique per call: tests run this harness on several seeds at once in one process.
        let path = NSTemporaryDirectory() + "superres-fuzz-rows-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return .refused("no file") }
        defer { try? FileManager.default.removeItem(atPath: path) }
        let limits = DecodeLimits(maxPixels: maxPixels)
        guard
            let input = try StreamedInput.examine(
                path: path, bytes: bytes, metadata: ImageMetadata(reading: bytes), source: "fuzz", limits: limits,
                colour: ColourPolicy())
        else { return .refused("not read by rows") }
        let reader = try input.open()
        var samples = PixelSamples.uint8([])
        while let band = try reader.readRows(7) {
            switch (samples, band.samples) {
            case (.uint8(let all), .uint8(let values)): samples = .uint8(all + values)
            case (.uint8(let all), .uint16(let values)) where all.isEmpty: samples = .uint16(values)
            case (.uint16(let all), .uint16(let values)): samples = .uint16(all + values)
            default: fatalError("a band of another bit depth")
            }
        }
        let shape = input.shape
        let streamed = PixelImage(width: shape.width, height: shape.height, layout: shape.layout, samples: samples)
        // Both ways read the same libraries' output: where both accept the file, the pixels must be the same.
        if let whole = try? ImageCodec.decode(bytes, source: "fuzz", limits: limits), whole != streamed {
            fatalError("the file read by rows differs from its whole decode")
        }
        return .accepted
    }

    /// A small ncnn network (convolutions with and without bias, a depth-to-space) whose weights the `ncnn-bin`
    /// harness reads from its input: 3×3×3×4 + 4, then 4×4×3×3 + 0 values, each array tagged or raw.
    package static let binHarnessParam = """
        7767517
        4 4
        Input            input     0 1 data
        Convolution      conv1     1 1 data c1 0=4 1=3 4=1 5=1 6=108
        Convolution      conv2     1 1 c1 c2 0=12 1=3 4=1 5=0 6=432
        PixelShuffle     shuffle   1 1 c2 out 0=2
        """
}
