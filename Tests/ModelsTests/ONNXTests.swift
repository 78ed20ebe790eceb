import Engine
import Foundation
import Kernels
@testable import Models
import Tensor
import TestSupport
import Testing

/// The ONNX fixtures `tools/onnx_models.py` writes (scripts/test does, into `$SUPERRES_MODELS/onnx-fixtures`):
/// networks built from the ncnn weights of the catalogue and small operator graphs, with onnxruntime's outputs.
enum ONNXFixtures {
    struct Case: Decodable {
        let name: String
        let file: String
        let input: String
        let inputShape: [Int]
        let output: String
        let outputShape: [Int]
        let ncnnParam: String?
        let fixedSize: Int?
        let convention: ONNXConvention?
    }

    struct Manifest: Decodable {
        let networks: [Case]
        let operators: [Case]
        let hostile: [String: String]
    }

    /// The fixture folder: `SUPERRES_ONNX_FIXTURES`, else `onnx-fixtures` in `SUPERRES_MODELS`.
    static let folder: String? = {
        let environment = ProcessInfo.processInfo.environment
        let folder =
            environment["SUPERRES_ONNX_FIXTURES"]
            ?? environment["SUPERRES_MODELS"].map { ($0 as NSString).appendingPathComponent("onnx-fixtures") }
        guard let folder, FileManager.default.fileExists(atPath: folder + "/manifest.json") else { return nil }
        return folder
    }()

    static let manifest: Manifest? = folder.flatMap { folder in
        (try? Data(contentsOf: URL(fileURLWithPath: folder + "/manifest.json")))
            .flatMap { try? JSONDecoder().decode(Manifest.self, from: $0) }
    }

    static let absent =
        "no ONNX fixtures (scripts/test writes them with tools/onnx_models.py into $SUPERRES_MODELS/onnx-fixtures)"

    static func path(_ file: String) -> String { (folder! as NSString).appendingPathComponent(file) }

    /// A float32 file as an NCHW tensor of `shape`.
    static func tensor(_ file: String, shape: [Int]) throws -> Tensor {
        let data = try Data(contentsOf: URL(fileURLWithPath: path(file)))
        let count = shape.reduce(1, *)
        try #require(data.count == count * 4, "\(file) holds \(data.count) bytes, not \(count) floats")
        let values = data.withUnsafeBytes { raw in
            (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        return Tensor(shape: shape, scalars: values)
    }

    /// NCHW `[1, C, H, W]` as NHWC.
    static func nhwc(_ t: Tensor) -> Tensor { ReferenceKernels.transpose(t, permutation: [0, 2, 3, 1]) }

    /// The grey levels of values in [0, 1] as the pipeline writes them.
    static func grey(_ v: Float) -> Int { Int((min(max(v, 0), 1) * 255 + 0.5).rounded(.down)) }

    /// Checks that `ours` matches `reference` as 8-bit pictures: within 1 grey level, ≥ 99.9 % identical.
    static func expectSamePicture(_ ours: Tensor, _ reference: Tensor, _ label: String) {
        #expect(ours.shape == reference.shape, "\(label): shape \(ours.shape), reference \(reference.shape)")
        guard ours.shape == reference.shape else { return }
        var worst = 0
        var identical = 0
        for (a, b) in zip(ours.scalars, reference.scalars) {
            let difference = abs(grey(a) - grey(b))
            worst = max(worst, difference)
            if difference == 0 { identical += 1 }
        }
        let share = Double(identical) / Double(ours.count)
        #expect(worst <= 1, "\(label): a sample differs by \(worst) grey levels")
        #expect(share >= 0.999, "\(label): \(share * 100) % of samples identical")
    }
}

@Suite("ONNX models against onnxruntime", .enabled(if: ONNXFixtures.manifest != nil, Comment(rawValue: ONNXFixtures.absent)))
struct ONNXParityTests {
    @Test("networks from the catalogue's ncnn weights, written as PyTorch exports them, match onnxruntime",
        arguments: ONNXFixtures.manifest?.networks ?? [])
    func networkMatchesOnnxruntime(_ fixture: ONNXFixtures.Case) throws {
        let convention = fixture.convention ?? .standard
        let model = try ModelLoader.load(path: ONNXFixtures.path(fixture.file), convention: convention)
        #expect(model.family == .onnx)
        // The fixture's values are in the network's convention; the loaded model takes and gives RGB in [0, 1].
        func standard(_ t: Tensor) -> Tensor {
            var values = ONNXFixtures.nhwc(t)
            if convention.range == .byte { values.scalars = values.scalars.map { $0 / 255 } }
            if convention.channels == .bgr {
                for pixel in stride(from: 0, to: values.count, by: 3) { values.scalars.swapAt(pixel, pixel + 2) }
            }
            return values
        }
        let input = standard(try ONNXFixtures.tensor(fixture.input, shape: fixture.inputShape))
        let reference = standard(try ONNXFixtures.tensor(fixture.output, shape: fixture.outputShape))
        ONNXFixtures.expectSamePicture(try model.run(input), reference, fixture.name)
    }

    @Test("an input range or channel order is refused for formats whose family fixes them")
    func conventionOnlyForONNX() throws {
        let store = try #require(ProcessInfo.processInfo.environment["SUPERRES_MODELS"])
        let ncnn = try #require(ONNXFixtures.manifest?.networks.compactMap(\.ncnnParam).first)
        let error = #expect(throws: ModelError.self) {
            try ModelLoader.load(
                path: (store as NSString).appendingPathComponent(ncnn), convention: ONNXConvention(channels: .bgr))
        }
        #expect(error?.code == .mismatch)
    }

    @Test("the same network read from ONNX and from ncnn gives the same pixels",
        arguments: (ONNXFixtures.manifest?.networks ?? []).filter { $0.ncnnParam != nil })
    func onnxMatchesNCNN(_ fixture: ONNXFixtures.Case) throws {
        let store = try #require(ProcessInfo.processInfo.environment["SUPERRES_MODELS"], "SUPERRES_MODELS is not set")
        let onnx = try ModelLoader.load(path: ONNXFixtures.path(fixture.file))
        let ncnn = try ModelLoader.load(path: (store as NSString).appendingPathComponent(fixture.ncnnParam!))
        let input = ONNXFixtures.nhwc(try ONNXFixtures.tensor(fixture.input, shape: fixture.inputShape))
        #expect(onnx.scale == ncnn.scale)
        ONNXFixtures.expectSamePicture(try onnx.run(input), try ncnn.run(input), fixture.name + " vs ncnn")
    }

    @Test("every operator graph matches onnxruntime on the fast and the reference kernels",
        arguments: ONNXFixtures.manifest?.operators ?? [])
    func operatorsMatchOnnxruntime(_ fixture: ONNXFixtures.Case) throws {
        let (graph, _) = try ONNXImporter.readGraph(path: ONNXFixtures.path(fixture.file))
        let input = ONNXFixtures.nhwc(try ONNXFixtures.tensor(fixture.input, shape: fixture.inputShape))
        let reference = ONNXFixtures.nhwc(try ONNXFixtures.tensor(fixture.output, shape: fixture.outputShape))
        for kernels in [KernelChoice.fast, .reference] {
            let ours = try GraphExecutor(graph: graph, kernels: kernels).run(input, output: graph.outputs[0].name)
            #expect(ours.shape == reference.shape, "\(fixture.name): \(ours.shape), onnxruntime \(reference.shape)")
            guard ours.shape == reference.shape else { continue }
            let worst = zip(ours.scalars, reference.scalars).map { abs($0 - $1) / (1 + abs($1)) }.max() ?? 0
            #expect(worst <= 1e-4, "\(fixture.name) (\(kernels)): relative difference \(worst)")
        }
    }

    @Test("hostile files get their one-line typed errors")
    func hostileFiles() throws {
        let expected = try #require(ONNXFixtures.manifest?.hostile)
        #expect(expected.count == 4)
        for (file, code) in expected {
            let error = #expect(throws: ModelError.self) { try ModelLoader.load(path: ONNXFixtures.path(file)) }
            #expect(error?.code.rawValue == code, "\(file): \(String(describing: error))")
            #expect(error?.description.contains("\n") == false)
            if file == "unsupported-operators.onnx" {
                #expect(error?.message.contains("Einsum (1×)") == true && error?.message.contains("LpNormalization (2×)") == true)
            }
            if file == "huge-initializer.onnx" { #expect(error?.message.contains("claims more than") == true) }
            if file == "align-corners.onnx" { #expect(error?.message.contains("align_corners=False") == true) }
        }
    }

    @Test("an export fixed at 64 × 64 runs at that size like onnxruntime, and at any other size")
    func fixedSizeExport() throws {
        let fixture = try #require(ONNXFixtures.manifest?.networks.first { $0.fixedSize != nil })
        let model = try ModelLoader.load(path: ONNXFixtures.path(fixture.file))
        let input = ONNXFixtures.nhwc(try ONNXFixtures.tensor(fixture.input, shape: fixture.inputShape))
        let whole = try model.run(input)
        // The pixel shuffle the file spells for 64 × 64 is read as one, so a 40 × 24 crop enlarges as the same
        // network: its inner pixels (away from the crop's edges, past the 2-pixel field) equal the whole run's.
        let crop = ReferenceKernels.crop(input, top: 8, left: 16, bottom: 16, right: 24)
        let part = try model.run(crop)
        #expect(part.shape == [1, 80, 48, 3])
        var worst: Float = 0
        for y in 8..<72 {
            for x in 8..<40 {
                for c in 0..<3 {
                    let a = part.scalars[(y * 48 + x) * 3 + c]
                    let b = whole.scalars[((y + 16) * 128 + x + 32) * 3 + c]
                    worst = max(worst, abs(a - b))
                }
            }
        }
        #expect(worst <= 1e-5)
    }
}

@Suite("ONNX importer pieces")
struct ONNXImporterUnitTests {
    @Test("sizes computed from Shape stay in terms of the input's height and width")
    func symbolicSizes() {
        let h = SymbolicSize.height
        let doubled = h.times(.constant(2))
        #expect(doubled == SymbolicSize(h: 2))
        #expect(doubled?.divided(by: .constant(4), integer: true) == SymbolicSize(h: 0.5))
        #expect(SymbolicSize.constant(7).divided(by: .constant(2), integer: true)?.integer == 3)
        #expect(h.times(.width) == nil)
        #expect((h + .constant(3) - .constant(3)) == h)
    }

    @Test("nearest resizing reads ⌊y/s⌋ for the coordinate modes that do so at whole factors")
    func nearestModes() {
        #expect(ONNXImporter.Builder.nearestPicksFloor(scale: 4, transformation: "asymmetric", rounding: "floor"))
        #expect(ONNXImporter.Builder.nearestPicksFloor(scale: 4, transformation: "half_pixel", rounding: "round_prefer_floor"))
        #expect(ONNXImporter.Builder.nearestPicksFloor(scale: 2, transformation: "asymmetric", rounding: "round_prefer_floor"))
        #expect(!ONNXImporter.Builder.nearestPicksFloor(scale: 4, transformation: "asymmetric", rounding: "round_prefer_floor"))
        #expect(!ONNXImporter.Builder.nearestPicksFloor(scale: 2, transformation: "align_corners", rounding: "floor"))
    }

    @Test("reflect and edge padding fill as numpy's reflect and edge modes do")
    func padModes() {
        // One row of three one-channel pixels, padded by 2 on the left and 1 on the right.
        let row = Tensor(shape: [1, 1, 3, 1], scalars: [1, 2, 3])
        let reflected = ReferenceKernels.pad(row, top: 0, left: 2, bottom: 0, right: 1, mode: .reflect)
        #expect(reflected.scalars == [3, 2, 1, 2, 3, 2])
        let repeated = ReferenceKernels.pad(row, top: 1, left: 2, bottom: 0, right: 1, mode: .edge)
        #expect(repeated.shape == [1, 2, 6, 1])
        #expect(repeated.scalars == [1, 1, 1, 2, 3, 3, 1, 1, 1, 2, 3, 3])
    }

    @Test("float16 widens exactly, subnormals and infinities included")
    func halfPrecision() {
        #expect(ONNXTensor.halfToFloat(0x3C00) == 1)
        #expect(ONNXTensor.halfToFloat(0xC000) == -2)
        #expect(ONNXTensor.halfToFloat(0x0001) == 0x1p-24)
        #expect(ONNXTensor.halfToFloat(0x7C00) == .infinity)
        #expect(ONNXTensor.halfToFloat(0x3555) == Float(Float16(bitPattern: 0x3555)))
    }

    @Test("bytes that are not an ONNX model are a malformed-file error")
    func garbage() throws {
        let folder = TemporaryFolder("onnx-garbage")
        let file = URL(fileURLWithPath: folder.appending("noise.onnx"))
        try Data([0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x01]).write(to: file)
        #expect((#expect(throws: ModelError.self) { try ModelLoader.load(path: file.path) })?.code == .malformed)
        try Data().write(to: file)
        #expect((#expect(throws: ModelError.self) { try ModelLoader.load(path: file.path) })?.code == .malformed)
    }
}
