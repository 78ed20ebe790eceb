import Engine
import Foundation
import Kernels
import Tensor

extension NCNNImporter {
    /// Whether `path` is an ncnn `.param` file: by its extension, else by its first line (the magic number).
    public static func isParamFile(_ path: String) -> Bool {
        if (path as NSString).pathExtension.lowercased() == "param" { return true }
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 8)) ?? Data()
        return head.starts(with: Array("7767517".utf8)) && (head.count == 7 || [10, 13, 32].contains(head[7]))
    }

    /// Tiles carry the whole receptive field when it is at most this many input pixels (SRMD: 12,
    /// realesr-animevideov3: 19); wider fields get `contextMargin`.
    public static let exactMarginLimit = 32

    /// The context margin of networks whose receptive field is wider than `exactMarginLimit` (Real-ESRGAN x4plus:
    /// 349 input pixels, x4plus-anime: 94). The reference programs give their tiles 10 pixels
    /// (realesrgan-ncnn-vulkan's `prepadding`), which leaves seams of up to ~100 grey levels at texture a GAN
    /// invents; 32 keeps stitched 48-pixel tiles within a mean 0.1–0.8 grey level of the whole-image result and costs
    /// ~20% more work at the automatic tile size (docs/quality-ncnn.md has the measurement).
    public static let contextMargin = 32
}

extension ModelLoader {
    /// Loads an ncnn network: `paramPath` and the `.bin` beside it (same stem). `family` and `scale` may be stated
    /// and must then fit the file; otherwise they are detected (SRMD takes 18 or 19 channels, Real-ESRGAN 3).
    public static func loadNCNN(
        paramPath: String,
        family stated: ModelFamily? = nil,
        scale statedScale: Int? = nil,
        kernels: KernelChoice = .fast,
        precision: Precision = .fp32
    ) throws(ModelError) -> SuperResolutionModel {
        let param = try NCNNParam(contentsOf: paramPath)
        let binPath = NCNNImporter.weightsPath(forParam: paramPath)
        guard FileManager.default.fileExists(atPath: binPath) else {
            throw ModelError(
                .unreadable,
                source: binPath,
                "no such file: the weights of \((paramPath as NSString).lastPathComponent) must lie beside it"
            )
        }
        var weights = try NCNNModelBin(contentsOf: binPath)
        let graph = try NCNNImporter.makeGraph(param, weights: &weights, source: paramPath)
        return try makeNCNN(
            graph: graph,
            source: paramPath,
            fileOperationCounts: NCNNImporter.layerCounts(param),
            family: stated,
            scale: statedScale,
            kernels: kernels,
            precision: precision
        )
    }

    /// Wraps an imported ncnn graph: optimizes it, finds its scale (from the output shapes of two probes, since
    /// Real-ESRGAN's ×2 and ×3 models end with a fractional resample), detects its family, chooses the tile margin.
    public static func makeNCNN(
        graph: Graph,
        source: String,
        fileOperationCounts: [String: Int],
        family stated: ModelFamily?,
        scale statedScale: Int?,
        kernels: KernelChoice,
        precision: Precision = .fp32
    ) throws(ModelError) -> SuperResolutionModel {
        guard graph.inputNodes.count == 1 else {
            throw ModelError(
                .notSuperResolution,
                source: source,
                "expected one Input layer, found \(graph.inputNodes.count)"
            )
        }
        let input = graph.inputNodes[0]
        guard
            let geometry = graph.nodes.lazy.compactMap({ node -> ConvolutionGeometry? in
                if case .convolution(let g, _) = node.operation, node.inputs.first == input { return g }
                return nil
            }).first
        else {
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
        var scale = 0
        for side in [8, 12] {
            let shape: [Int]
            do {
                shape = try executor.outputShapes(inputShape: [1, side, side, channels])[outputName] ?? []
            } catch {
                throw ModelError(.notSuperResolution, source: source, node: error.node, error.message)
            }
            let factor = shape.count == 4 ? shape[1] / side : 0
            guard factor >= 1, shape == [1, side * factor, side * factor, 3], scale == 0 || scale == factor else {
                throw ModelError(
                    .notSuperResolution,
                    source: source,
                    "output \(outputName) has shape \(shape) for a \(side)×\(side) input; expected an RGB image "
                        + "a whole number of times larger"
                )
            }
            scale = factor
        }
        try ModelLoader.checkScale(scale, source: source)
        let detected: ModelFamily
        switch channels {
        case 18, 19: detected = .srmd
        case 3: detected = .realesrgan
        default:
            throw ModelError(
                .notSuperResolution,
                source: source,
                "an ncnn network taking \(channels) channels is neither SRMD (18 or 19) nor Real-ESRGAN (3)"
            )
        }
        let family = stated ?? detected
        guard family == detected else {
            throw ModelError(
                .mismatch,
                source: source,
                "this ncnn network takes \(channels) channels: it is a \(detected.rawValue) model, not \(family.rawValue)"
            )
        }
        if let statedScale, statedScale != scale {
            throw ModelError(.mismatch, source: source, "the file is a ×\(scale) model, not ×\(statedScale)")
        }
        let field = executor.graph.receptiveField(output: 0)
        let exact = field.margin <= NCNNImporter.exactMarginLimit
        let (parameters, flops) = statistics(executor.graph)
        var model = SuperResolutionModel(
            source: source,
            family: family,
            scale: scale,
            inputChannels: channels,
            executor: executor,
            outputName: outputName,
            outputIsNCHW: false,
            tileMargin: exact ? field.margin : NCNNImporter.contextMargin,
            fileOperationCounts: fileOperationCounts,
            parameterCount: parameters,
            flopsPerInputPixel: flops
        )
        model.tileMarginIsExact = exact
        return model
    }
}
