import Engine
import Foundation
import Kernels
import Tensor

/// The network families superres knows how to feed (each has its own pre- and post-processing).
public enum ModelFamily: String, Sendable, CaseIterable, Codable {
    /// EDSR: BGR minus the DIV2K mean in, BGR out.
    case edsr
    /// ESPCN: the Y channel of YCrCb in [0, 1].
    case espcn
    /// FSRCNN and FSRCNN-small: the Y channel.
    case fsrcnn
    /// LapSRN: the Y channel, several outputs (the full-scale one is used).
    case lapsrn
    /// SRMD and SRMD-NF (ncnn): RGB in [0, 1] plus 15 degradation maps (and SRMD's noise-level map), RGB out.
    case srmd
    /// Real-ESRGAN (ncnn): RGB in [0, 1] in and out.
    case realesrgan

    /// Whether the network sees only the Y channel (the chroma is enlarged by interpolation).
    public var usesLumaOnly: Bool { self == .espcn || self == .fsrcnn || self == .lapsrn }

    /// Whether the family's networks come as ncnn `.param`/`.bin` pairs rather than TensorFlow `.pb` files.
    public var isNCNN: Bool { self == .srmd || self == .realesrgan }
}

/// A loaded, ready-to-run super-resolution network with what is known about it.
public struct SuperResolutionModel: Sendable {
    /// The model file it came from.
    public let source: String
    public let family: ModelFamily
    /// Output size ÷ input size.
    public let scale: Int
    /// Channels the network takes: 3 (BGR) or 1 (Y); for ncnn families 3 (RGB), SRMD 18 or 19.
    public let inputChannels: Int
    /// The prepared network.
    public let executor: GraphExecutor
    /// The output used as the result.
    public let outputName: String
    /// Whether that output is NCHW (`[1, C, H, W]`, as the dnn_superres exports end with a Transpose) or NHWC.
    public let outputIsNCHW: Bool
    /// Input pixels of context a tile gets on each side: the receptive field when `tileMarginIsExact` (tiles then
    /// match the whole-image result), else a fixed context margin for networks whose field is too wide to carry
    /// (Real-ESRGAN x4plus: hundreds of pixels), where tiles differ slightly from the whole image near their seams.
    public let tileMargin: Int
    /// Operation counts of the file as written (before fusion), by TensorFlow op name or ncnn layer type.
    public let fileOperationCounts: [String: Int]
    /// Learned weights and biases.
    public let parameterCount: Int
    /// Floating-point operations (2 per multiply-add) per input pixel, convolutions only.
    public let flopsPerInputPixel: Int
    /// Whether `tileMargin` covers the whole receptive field.
    public internal(set) var tileMarginIsExact = true
    /// The most channels any convolution produces (sizes the feature maps for memory planning).
    public var widestFeatureMap: Int {
        executor.graph.nodes.compactMap { node -> Int? in
            if case .convolution(let g, _) = node.operation { return g.outputChannels }
            return nil
        }.max() ?? inputChannels
    }

    /// Runs the network on one NHWC input of `inputChannels` channels and returns its main output (NHWC).
    public func run(_ input: Tensor) throws(GraphError) -> Tensor {
        try executor.run(input, output: outputName)
    }
}

/// Reads model files.
public enum ModelLoader {
    /// Loads a TensorFlow `.pb` from dnn_superres, or an ncnn `.param` (with its `.bin` beside it, same stem);
    /// `family` and `scale` may be stated (like OpenCV's `setModel(algo, scale)`) and are otherwise detected from
    /// the graph; stated values must fit the file. `precision: .bf16` needs a CPU with bfloat16 instructions
    /// (`BFloat16Hardware.best`) and is an `.unsupportedPrecision` error elsewhere, before the file is read.
    public static func load(
        path: String, family stated: ModelFamily? = nil, scale statedScale: Int? = nil, kernels: KernelChoice = .fast,
        precision: Precision = .fp32
    ) throws(ModelError) -> SuperResolutionModel {
        if precision == .bf16 && BFloat16Hardware.best == nil {
            throw ModelError(.unsupportedPrecision, source: path, BFloat16Hardware.unavailableReason)
        }
        let model = try loadFile(
            path: path, family: stated, scale: statedScale, kernels: kernels, precision: precision)
        // The file's bytes and the plain weights are gone now (the kernels hold their own form): return their pages.
        MemoryPolicy.returnFreedMemory()
        return model
    }

    private static func loadFile(
        path: String, family stated: ModelFamily?, scale statedScale: Int?, kernels: KernelChoice,
        precision: Precision
    ) throws(ModelError) -> SuperResolutionModel {
        if NCNNImporter.isParamFile(path) {
            return try loadNCNN(
                paramPath: path, family: stated, scale: statedScale, kernels: kernels, precision: precision)
        }
        let def: GraphDef
        do {
            def = try GraphDef(contentsOf: path)
        } catch {
            let code: ModelError.Code
            if case .unreadable = error.root { code = .unreadable } else { code = .malformed }
            throw ModelError(code, source: path, "\(error.root)")
        }
        let graph = try TensorFlowImporter.makeGraph(def, source: path)
        return try make(graph: graph, source: path, fileOperationCounts: def.opCounts, family: stated,
            scale: statedScale, kernels: kernels, precision: precision)
    }

    /// Wraps an imported graph: optimizes it, detects family and scale, checks stated values.
    public static func make(
        graph: Graph, source: String, fileOperationCounts: [String: Int], family stated: ModelFamily?, scale statedScale: Int?,
        kernels: KernelChoice, precision: Precision = .fp32
    ) throws(ModelError) -> SuperResolutionModel {
        guard graph.inputNodes.count == 1 else {
            throw ModelError(.notSuperResolution, source: source, "expected one input, found \(graph.inputNodes.count)")
        }
        let input = graph.inputNodes[0]
        // The first convolution reading the input fixes the channel count.
        guard let firstConvolution = graph.nodes.first(where: { node in
            if case .convolution = node.operation { return node.inputs.first == input }
            return false
        }), case .convolution(let firstGeometry, _) = firstConvolution.operation
        else {
            throw ModelError(.notSuperResolution, source: source, "no convolution reads the input")
        }
        let channels = firstGeometry.inputChannels
        let executor: GraphExecutor
        do {
            executor = try GraphExecutor(graph: graph, kernels: kernels, precision: precision)
        } catch {
            throw ModelError(.unsupportedAttribute, source: source, node: error.node, error.message)
        }
        let optimized = executor.graph
        let outputIndex = 0
        let field = optimized.receptiveField(output: outputIndex)
        let outputName = optimized.outputs[outputIndex].name
        // Check that the network maps an image to an image at that scale.
        let probe = [1, 8, 8, channels]
        let shapes: [String: [Int]]
        do {
            shapes = try executor.outputShapes(inputShape: probe)
        } catch {
            throw ModelError(.notSuperResolution, source: source, node: error.node, error.message)
        }
        let outShape = shapes[outputName] ?? []
        let expectedNCHW = [1, channels, 8 * field.scale, 8 * field.scale]
        let expectedNHWC = [1, 8 * field.scale, 8 * field.scale, channels]
        guard outShape == expectedNCHW || outShape == expectedNHWC else {
            throw ModelError(
                .notSuperResolution, source: source,
                "output \(outputName) has shape \(outShape) for an 8×8 input; expected an image of \(channels) channels")
        }
        let counts = fileOperationCounts
        let detected: ModelFamily
        if channels == 3 {
            detected = .edsr
        } else if counts["Abs", default: 0] > 0 {
            detected = .fsrcnn
        } else if counts["Tanh", default: 0] > 0 {
            detected = .espcn
        } else {
            detected = .lapsrn
        }
        let family = stated ?? detected
        if family.isNCNN {
            throw ModelError(
                .mismatch, source: source, "\(family.rawValue) networks are ncnn .param/.bin files, not graphs")
        }
        if family.usesLumaOnly != (channels == 1) {
            throw ModelError(
                .mismatch, source: source,
                "\(family.rawValue) networks take \(family.usesLumaOnly ? 1 : 3) channels; this file takes \(channels)")
        }
        if let statedScale, statedScale != field.scale {
            throw ModelError(.mismatch, source: source, "the file is a ×\(field.scale) model, not ×\(statedScale)")
        }
        try checkScale(field.scale, source: source)
        let (parameters, flops) = statistics(optimized)
        return SuperResolutionModel(
            source: source, family: family, scale: field.scale, inputChannels: channels, executor: executor,
            outputName: outputName, outputIsNCHW: outShape == expectedNCHW, tileMargin: field.margin, fileOperationCounts: counts,
            parameterCount: parameters, flopsPerInputPixel: flops)
    }

    /// The largest enlargement a model may have: super-resolution networks are ×2 to ×8 (×16 leaves room).
    public static let maxScale = 16

    /// Throws `.notSuperResolution` for a scale beyond `maxScale` (a crafted graph could claim ×65536).
    static func checkScale(_ scale: Int, source: String) throws(ModelError) {
        guard scale <= maxScale else {
            throw ModelError(
                .notSuperResolution, source: source,
                "the network enlarges ×\(scale); super-resolution models are at most ×\(maxScale)")
        }
    }

    /// Learned values (constants read by convolutions and element-wise ops) and FLOPs per input pixel.
    static func statistics(_ graph: Graph) -> (parameters: Int, flops: Int) {
        var parameters = 0
        var flops = 0
        var scale = [Int](repeating: 1, count: graph.nodes.count)
        for (id, node) in graph.nodes.enumerated() {
            scale[id] = node.inputs.filter { graph.constant($0) == nil }.map { scale[$0] }.max() ?? 1
            switch node.operation {
            case .convolution(let g, let epilogue):
                parameters += g.kernelHeight * g.kernelWidth * g.inputChannels * g.outputChannels
                parameters += epilogue.bias?.count ?? 0
                if case .prelu(let slopes) = epilogue.activation { parameters += slopes.count }
                flops += 2 * g.multiplyAddsPerPixel * scale[id] * scale[id]
            case .depthToSpace(let s), .pixelShuffle(let s):
                scale[id] *= s
            case .resample(_, let scaleY, _) where scaleY >= 1 && scaleY == scaleY.rounded():
                scale[id] *= Int(scaleY)
            case .binary:
                parameters += node.inputs.compactMap { graph.constant($0) }.filter { $0.count > 1 }.map(\.count)
                    .reduce(0, +)
            case .activation(.prelu(let slopes)):
                parameters += slopes.count
            default:
                break
            }
        }
        return (parameters, flops)
    }
}
