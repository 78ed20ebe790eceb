import Engine
import Foundation
import Kernels
import Tensor

/// Reads model files.
package enum ModelLoader {
    /// Loads a TensorFlow `.pb` from dnn_superres, or an ncnn `.param` (with its `.bin` beside it, same stem);
    /// `family` and `scale` may be stated (like OpenCV's `setModel(algo, scale)`) and are otherwise detected from
    /// the graph; stated values must fit the file. `precision: .bf16` needs a CPU with bfloat16 instructions
    /// (`BFloat16Hardware.best`) and is an `.unsupportedPrecision` error elsewhere, before the file is read.
    ///
    /// `convention` says how an ONNX network wants its pixels (range and channel order); other formats have theirs
    /// fixed by their family, and a convention other than the standard one is a `.mismatch` for them.
    package static func load(
        path: String, family stated: ModelFamily? = nil, scale statedScale: Int? = nil, kernels: KernelChoice = .fast,
        precision: Precision = .fp32, convention: ONNXConvention = .standard
    ) throws(ModelError) -> SuperResolutionModel {
        if precision == .bf16 && BFloat16Hardware.best == nil {
            throw ModelError(.unsupportedPrecision, source: path, BFloat16Hardware.unavailableReason)
        }
        if convention != .standard && !ONNXImporter.isONNXFile(path) {
            throw ModelError(
                .mismatch, source: path,
                "an input range and channel order are stated for ONNX models; this file's family fixes its own")
        }
        let model = try loadFile(
            path: path, family: stated, scale: statedScale, kernels: kernels, precision: precision,
            convention: convention)
        // The file's bytes and the plain weights are gone now (the kernels hold their own form): return their pages.
        MemoryPolicy.returnFreedMemory()
        return model
    }

    private static func loadFile(
        path: String, family stated: ModelFamily?, scale statedScale: Int?, kernels: KernelChoice,
        precision: Precision, convention: ONNXConvention
    ) throws(ModelError) -> SuperResolutionModel {
        let (graph, format, operationCounts) = try readGraph(path: path, convention: convention)
        return try make(
            graph: graph, format: format, source: path, fileOperationCounts: operationCounts, family: stated,
            scale: statedScale, kernels: kernels, precision: precision)
    }

    /// The graph of the file at `path` (an ncnn `.param` with its `.bin` beside it, or a TensorFlow `.pb`), its
    /// format and the file's operation counts, which `make` tells the family by.
    private static func readGraph(
        path: String, convention: ONNXConvention
    ) throws(ModelError) -> (graph: Graph, format: Format, operationCounts: [String: Int]) {
        if NCNNImporter.isParamFile(path) {
            let (graph, layerCounts) = try NCNNImporter.readGraph(paramPath: path)
            return (graph, .ncnn, layerCounts)
        }
        if ONNXImporter.isONNXFile(path) {
            let (graph, operationCounts) = try ONNXImporter.readGraph(path: path, convention: convention)
            return (graph, .onnx, operationCounts)
        }
        let def: GraphDef
        do {
            def = try GraphDef(contentsOf: path)
        } catch {
            let code: ModelError.Code
            if case .unreadable = error.root { code = .unreadable } else { code = .malformed }
            throw ModelError(code, source: path, "\(error.root)")
        }
        return (try TensorFlowImporter.makeGraph(def, source: path), .tensorFlow, def.opCounts)
    }

    /// The file formats a network comes in, each with its own way of telling the family.
    package enum Format: Sendable {
        /// A dnn_superres TensorFlow graph: the family from the input channels and the file's operations.
        case tensorFlow
        /// An ncnn network: the family from the input channels and layers (SRMD, Real-ESRGAN, SPAN); RGB out.
        case ncnn
        /// An ONNX export of any architecture: RGB in and out.
        case onnx
    }

    /// Wraps an imported graph: makes its output NHWC, prepares the executor, finds the scale by probing (two input
    /// sizes, since Real-ESRGAN's ×2 and ×3 networks end with a fractional resample), detects the family as the
    /// format says, checks stated values and chooses the tile margin.
    package static func make(
        graph imported: Graph, format: Format, source: String, fileOperationCounts: [String: Int],
        family stated: ModelFamily?, scale statedScale: Int?, kernels: KernelChoice, precision: Precision = .fp32
    ) throws(ModelError) -> SuperResolutionModel {
        var graph = imported
        GraphOptimizer.dropFinalTransposes(&graph)
        guard graph.inputNodes.count == 1 else {
            throw ModelError(.notSuperResolution, source: source, "expected one input, found \(graph.inputNodes.count)")
        }
        // The first convolution reading the input fixes the channel count.
        guard let geometry = firstConvolution(of: graph, from: graph.inputNodes[0]) else {
            throw ModelError(.notSuperResolution, source: source, "no convolution reads the input")
        }
        let channels = geometry.inputChannels
        let executor: GraphExecutor
        do {
            executor = try GraphExecutor(graph: graph, kernels: kernels, precision: precision)
        } catch {
            throw ModelError(.unsupportedAttribute, source: source, node: error.node, error.message)
        }
        let outputName = executor.graph.outputs[0].name
        let detected: ModelFamily
        switch format {
        case .tensorFlow: detected = TensorFlowImporter.family(inputChannels: channels, operations: fileOperationCounts)
        case .ncnn:
            detected = try NCNNImporter.family(
                inputChannels: channels, layers: fileOperationCounts, source: source)
        case .onnx:
            guard channels == 3 else {
                throw ModelError(
                    .notSuperResolution, source: source,
                    "the network takes \(channels) channels; superres feeds ONNX networks RGB images (3 channels)")
            }
            detected = .onnx
        }
        // Check that the network maps an image to an image a whole number of times larger (Real-CUGAN's valid
        // convolutions lose a fixed border, so its U-Nets are probed at sizes they divide, and the border is kept).
        let outputChannels = format == .tensorFlow ? channels : 3
        let losesBorder = detected == .realcugan
        let sides = losesBorder ? [64, 96] : [8, 12]
        var outputs: [Int] = []
        for side in sides {
            let shape: [Int]
            do {
                shape = try executor.outputShapes(inputShape: [1, side, side, channels])[outputName] ?? []
            } catch {
                throw ModelError(.notSuperResolution, source: source, node: error.node, error.message)
            }
            guard shape.count == 4, shape[0] == 1, shape[1] == shape[2], shape[3] == outputChannels else {
                throw ModelError(
                    .notSuperResolution, source: source,
                    "output \(outputName) has shape \(shape) for a \(side)×\(side) input; expected an image of "
                        + "\(outputChannels) channels a whole number of times larger")
            }
            outputs.append(shape[1])
        }
        // outputs[i] = scale · sides[i] − 2 · borderLoss
        let grown = outputs[1] - outputs[0]
        let scale = grown / (sides[1] - sides[0])
        let lost = scale * sides[0] - outputs[0]
        guard scale >= 1, grown % (sides[1] - sides[0]) == 0, lost >= 0, lost % 2 == 0, losesBorder || lost == 0 else {
            throw ModelError(
                .notSuperResolution, source: source,
                "output \(outputName) is \(outputs[0]) and \(outputs[1]) pixels wide for inputs of \(sides[0]) and "
                    + "\(sides[1]): not an image a whole number of times larger")
        }
        try checkScale(scale, source: source)
        let family = stated ?? detected
        try check(family, detected: detected, format: format, channels: channels, source: source)
        if let statedScale, statedScale != scale {
            throw ModelError(.mismatch, source: source, "the file is a ×\(scale) model, not ×\(statedScale)")
        }
        let field = executor.graph.receptiveField(output: 0)
        // The dnn_superres graphs' fields are small; ncnn networks wider than the limit get a context margin. A
        // network that loses a border needs at least that border as context (its family adds the reference
        // program's padding, which covers its field; the U-Net's means are taken over the whole picture).
        let margin = lost > 0 ? lost / 2 / scale + (lost / 2 % scale == 0 ? 0 : 1) : field.margin
        let exact = format == .tensorFlow || lost > 0 || field.margin <= NCNNImporter.exactMarginLimit
        let (parameters, flops) = statistics(executor.graph)
        var model = SuperResolutionModel(
            source: source, family: family, scale: scale, inputChannels: channels, executor: executor,
            outputName: outputName, tileMargin: exact ? margin : NCNNImporter.contextMargin,
            fileOperationCounts: fileOperationCounts, parameterCount: parameters, flopsPerInputPixel: flops)
        model.tileMarginIsExact = exact
        model.borderLoss = lost / 2
        return model
    }

    /// The first convolution fed by `input`, directly or through element-wise steps (SPAN subtracts its mean and
    /// scales its input before the first convolution), which keep the channel count.
    static func firstConvolution(of graph: Graph, from input: NodeID) -> ConvolutionGeometry? {
        var fed: Set<NodeID> = [input]
        for (id, node) in graph.nodes.enumerated() {
            switch node.operation {
            case .convolution(let geometry, _):
                if node.inputs.first.map(fed.contains) == true { return geometry }
            case .binary, .unary, .activation, .sigmoidGate:
                if node.inputs.contains(where: fed.contains) { fed.insert(id) }
            default:
                continue
            }
        }
        return nil
    }

    /// Throws `.mismatch` when a stated family does not fit the file.
    private static func check(
        _ family: ModelFamily, detected: ModelFamily, format: Format, channels: Int, source: String
    ) throws(ModelError) {
        switch format {
        case .tensorFlow:
            if family.isNCNN {
                throw ModelError(
                    .mismatch, source: source, "\(family.rawValue) networks are ncnn .param/.bin files, not graphs")
            }
            if family.usesLumaOnly != (channels == 1) {
                throw ModelError(
                    .mismatch, source: source,
                    "\(family.rawValue) networks take \(family.usesLumaOnly ? 1 : 3) channels; this file takes \(channels)")
            }
        case .ncnn, .onnx:
            guard family == detected else {
                throw ModelError(
                    .mismatch, source: source,
                    "this \(format == .onnx ? "ONNX" : "ncnn") network takes \(channels) channels: it is a "
                        + "\(detected.rawValue) model, not \(family.rawValue)")
            }
        }
    }

    /// The largest enlargement a model may have: super-resolution networks are ×2 to ×8 (×16 leaves room).
    package static let maxScale = 16

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
        var flops = 0.0
        // Each node's resolution against the input's (½ after a U-Net's down-sampling step); a global mean has none.
        var scale = [Double](repeating: 1, count: graph.nodes.count)
        for (id, node) in graph.nodes.enumerated() {
            scale[id] = node.inputs.filter { graph.constant($0) == nil }.map { scale[$0] }.max() ?? 1
            switch node.operation {
            case .convolution(let g, let epilogue):
                parameters += g.kernelHeight * g.kernelWidth * g.inputChannels * g.outputChannels
                parameters += epilogue.bias?.count ?? 0
                if case .prelu(let slopes) = epilogue.activation { parameters += slopes.count }
                flops += 2 * Double(g.multiplyAddsPerPixel) * scale[id] * scale[id]
            case .depthToSpace(let s), .pixelShuffle(let s):
                scale[id] *= Double(s)
            case .spaceToDepth(let s):
                scale[id] /= Double(s)
            case .globalAveragePool:
                scale[id] = 0
            case .resample(_, let scaleY, _) where scaleY >= 1 && scaleY == scaleY.rounded():
                scale[id] *= Double(scaleY)
            case .binary:
                parameters += node.inputs.compactMap { graph.constant($0) }.filter { $0.count > 1 }.map(\.count)
                    .reduce(0, +)
            case .activation(.prelu(let slopes)):
                parameters += slopes.count
            default:
                break
            }
        }
        // A crafted graph can claim absurd up- and down-sampling: the count saturates rather than trapping.
        return (parameters, flops.isFinite && flops < 0x1p62 ? Int(flops.rounded()) : 1 << 62)
    }
}
