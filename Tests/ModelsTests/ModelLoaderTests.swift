import Engine
import Foundation
import Models
import Tensor
import TestSupport
import Testing

@Suite struct ModelLoaderTests {
    static let families: [(String, ModelFamily, Int)] = [
        ("models/opencv/ESPCN_x2.pb", .espcn, 2), ("models/opencv/ESPCN_x3.pb", .espcn, 3),
        ("models/opencv/ESPCN_x4.pb", .espcn, 4), ("models/opencv/FSRCNN_x2.pb", .fsrcnn, 2),
        ("models/opencv/FSRCNN_x3.pb", .fsrcnn, 3), ("models/opencv/FSRCNN_x4.pb", .fsrcnn, 4),
        ("models/opencv/FSRCNN-small_x3.pb", .fsrcnn, 3), ("models/opencv/LapSRN_x2.pb", .lapsrn, 2),
        ("models/opencv/LapSRN_x4.pb", .lapsrn, 4), ("models/opencv/LapSRN_x8.pb", .lapsrn, 8),
        ("models/fixtures/edsr_tiny_x3.pb", .edsr, 3), ("models/fixtures/edsr_small_x2.pb", .edsr, 2),
        ("models/fixtures/edsr_small_x4.pb", .edsr, 4), ("models/fixtures/edsr_full_x3.pb", .edsr, 3),
    ]

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"), arguments: families)
    func detectsFamilyAndScale(_ path: String, _ family: ModelFamily, _ scale: Int) throws {
        let model = try ModelLoader.load(path: SharedData.path(path))
        #expect(model.family == family)
        #expect(model.scale == scale)
        #expect(model.outputName == "NCHW_output")
        #expect(model.inputChannels == (family == .edsr ? 3 : 1))
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func fullEDSRCostsAndSizeMatchTheRealModel() throws {
        let model = try ModelLoader.load(path: SharedData.path("models/fixtures/edsr_full_x3.pb"))
        // 65 convs 3×3×256×256, head 3×3×3×256, tail 3×3×256×27 (as the shared README states).
        let weights = 65 * 9 * 256 * 256 + 9 * 3 * 256 + 9 * 256 * 27
        #expect(model.parameterCount > weights && model.parameterCount < weights + 20_000)
        #expect(model.flopsPerInputPixel == 2 * weights)
        #expect(model.flopsPerInputPixel == 76_815_360)
        // Receptive field: 1 (head) + 32 blocks × 2 + 1 + 1 (tail) pixels.
        #expect(model.tileMargin == 67)
        // Everything but DepthToSpace fused into convolutions; the final NCHW Transpose is dropped (NHWC out).
        #expect(model.executor.graph.operationCounts == ["Conv3x3": 67, "DepthToSpace": 1])
        #expect(model.fileOperationCounts["Transpose"] == 1)
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func statedValuesMustFitTheFile() throws {
        let path = SharedData.path("models/opencv/FSRCNN_x3.pb")
        #expect(try ModelLoader.load(path: path, family: .fsrcnn, scale: 3).scale == 3)
        // Stating another Y-channel family is allowed (OpenCV lets setModel pick the processing)…
        #expect(try ModelLoader.load(path: path, family: .espcn).family == .espcn)
        // …but not another scale, nor a family with another input.
        let wrongScale = #expect(throws: ModelError.self) { try ModelLoader.load(path: path, scale: 2) }
        #expect(wrongScale?.code == .mismatch)
        #expect(wrongScale?.description.contains("×3") == true)
        let wrongFamily = #expect(throws: ModelError.self) { try ModelLoader.load(path: path, family: .edsr) }
        #expect(wrongFamily?.code == .mismatch)
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func truncatedAndGarbledFilesGiveTypedErrors() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: SharedData.path("models/opencv/ESPCN_x3.pb")))
        let folder = TemporaryFolder("superres-loader")
        var rng = SeededGenerator(seed: 42)
        for length in [0, 1, 7, 100, 1000, original.count / 2, original.count - 1] {
            let path = folder.appending("cut.pb")
            try original.prefix(length).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: ModelError.self) { try ModelLoader.load(path: path) }
            #expect(error?.source == path)
        }
        for _ in 0..<40 {
            var bytes = [UInt8](original)
            for _ in 0..<8 { bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            let path = folder.appending("garbled.pb")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            // Either it still loads (a flipped weight) or it fails with a ModelError; never a crash.
            do { _ = try ModelLoader.load(path: path) } catch {}
        }
        let missing = #expect(throws: ModelError.self) { try ModelLoader.load(path: folder.appending("nope.pb")) }
        #expect(missing?.code == .unreadable)
    }

    @Test func unknownOperationIsNamedWithItsNode() throws {
        let def = GraphDef(nodes: [
            NodeDef(name: "IteratorGetNext", op: "Placeholder"),
            NodeDef(name: "mystery", op: "Conv3D", inputs: ["IteratorGetNext"]),
        ])
        let error = #expect(throws: ModelError.self) { try TensorFlowImporter.makeGraph(def, source: "test.pb") }
        #expect(error?.code == .unsupportedOperation)
        #expect(error?.node == "mystery")
        #expect(error?.description.contains("Conv3D") == true)
    }

    @Test func nodesOutOfOrderAreSortedAndCyclesRejected() throws {
        // The consumer comes first in the file; the importer must still see its input first.
        let out = NodeDef(name: "out", op: "Relu", inputs: ["in"])
        let input = NodeDef(name: "in", op: "Placeholder")
        let graph = try TensorFlowImporter.makeGraph(GraphDef(nodes: [out, input]), source: "t")
        #expect(graph.nodes.map(\.name) == ["in", "out"])
        let a = NodeDef(name: "a", op: "Relu", inputs: ["b"])
        let b = NodeDef(name: "b", op: "Relu", inputs: ["a"])
        let error = #expect(throws: ModelError.self) { try TensorFlowImporter.makeGraph(GraphDef(nodes: [a, b]), source: "t") }
        #expect(error?.code == .malformed)
        let dangling = NodeDef(name: "c", op: "Relu", inputs: ["nowhere"])
        #expect(throws: ModelError.self) { try TensorFlowImporter.makeGraph(GraphDef(nodes: [dangling]), source: "t") }
    }
}
