import Engine
import Foundation
import Kernels
import Tensor

/// Turns an ncnn network (`.param` structure + `.bin` weights) into an engine `Graph`.
///
/// Each layer maps onto engine operations that compute the same float values in the same order as ncnn's
/// reference layers (`src/layer/*.cpp`): convolution weights go from ncnn's `[out][in][kh][kw]` to HWIO, a fused
/// activation becomes the convolution's epilogue, `Eltwise` sums with coefficients become `Mul` + `Add` (so the
/// optimizer can fuse Real-ESRGAN's `conv·0.2 + skip` into the convolution), `Split` is an alias. An unknown layer
/// type is an error naming the layer.
package enum NCNNImporter {
    /// The ncnn layer types this importer understands.
    package static let supportedLayers: Set<String> = [
        "Input", "Convolution", "ReLU", "PReLU", "Split", "Noop", "Dropout", "Concat", "Eltwise", "BinaryOp", "Interp",
        "PixelShuffle", "Sigmoid", "Swish", "MemoryData", "Pooling", "InnerProduct", "Crop", "Deconvolution",
    ]

    /// Sizes above these are taken as garbled files rather than networks.
    static let maximumChannels = 1 << 16
    static let maximumKernel = 64

    /// Builds the graph of `param`, reading its weights from `weights` (which must hold exactly the weights the
    /// layers ask for); `source` names the `.param` file in errors.
    package static func makeGraph(
        _ param: NCNNParam,
        weights: inout NCNNModelBin,
        source: String
    ) throws(ModelError)
        -> Graph
    {
        var builder = Builder(source: source)
        for layer in param.layers {
            do {
                try builder.add(layer, weights: &weights)
            } catch let problem as NCNNParameters.Problem {
                throw ModelError(.malformed, source: source, node: layer.name, "line \(layer.line): \(problem.message)")
            } catch let error as ModelError {
                throw error
            } catch {
                throw ModelError(.malformed, source: source, node: layer.name, "\(error)")
            }
        }
        guard weights.remaining == 0 else {
            throw ModelError(
                .malformed,
                source: weights.source,
                "\(weights.remaining) bytes are left after the last layer's weights: the .bin does not belong to "
                    + ((source as NSString).lastPathComponent)
            )
        }
        try builder.markOutputs(param)
        return builder.graph
    }

    /// Layer counts by ncnn type, as written in the file.
    package static func layerCounts(_ param: NCNNParam) -> [String: Int] {
        var counts: [String: Int] = [:]
        for layer in param.layers { counts[layer.type, default: 0] += 1 }
        return counts
    }

    /// The `.bin` that goes with a `.param`: same folder, same stem.
    package static func weightsPath(forParam path: String) -> String {
        (path as NSString).deletingPathExtension + ".bin"
    }

    /// Builds the graph layer by layer (`NCNNImporter+UNetLayers.swift` adds Real-CUGAN's layers).
    struct Builder {
        let source: String
        var graph = Graph()
        /// The node that produces each blob (aliases share a node).
        var blobs: [String: NodeID] = [:]
        var read: Set<String> = []

        init(source: String) { self.source = source }

        func unsupported(_ layer: NCNNParam.Layer, _ message: String) -> ModelError {
            ModelError(.unsupportedAttribute, source: source, node: layer.name, "\(layer.type): \(message)")
        }

        func malformed(_ layer: NCNNParam.Layer, _ message: String) -> ModelError {
            ModelError(.malformed, source: source, node: layer.name, "line \(layer.line): \(message)")
        }

        mutating func inputs(
            of layer: NCNNParam.Layer,
            count: Int? = nil,
            outputs outputCount: Int? = 1
        ) throws(ModelError)
            -> [NodeID]
        {
            if let count, layer.inputs.count != count {
                throw malformed(layer, "\(layer.type) takes \(count) input blob(s), not \(layer.inputs.count)")
            }
            if let outputCount, layer.outputs.count != outputCount {
                throw malformed(layer, "\(layer.type) writes \(outputCount) blob(s), not \(layer.outputs.count)")
            }
            for input in layer.inputs { read.insert(input) }
            // NCNNParam checked that every input is written first.
            return layer.inputs.map { blobs[$0]! }
        }

        mutating func define(_ layer: NCNNParam.Layer, _ node: NodeID) {
            for output in layer.outputs { blobs[output] = node }
        }

        mutating func add(_ layer: NCNNParam.Layer, weights: inout NCNNModelBin) throws {
            let p = layer.parameters
            switch layer.type {
            case "Input":
                _ = try inputs(of: layer, count: 0)
                define(layer, graph.add(layer.name, .input))
            case "Split", "Noop":
                let x = try inputs(of: layer, count: 1, outputs: nil)
                define(layer, x[0])
            case "Dropout":
                let x = try inputs(of: layer, count: 1)
                guard try p.float(0, default: 1) == 1 else { throw unsupported(layer, "a scale other than 1") }
                define(layer, x[0])
            case "Convolution":
                let x = try inputs(of: layer, count: 1)
                define(layer, try convolution(layer, input: x[0], weights: &weights))
            case "ReLU":
                let x = try inputs(of: layer, count: 1)
                let slope = try p.float(0, default: 0)
                let operation: Engine.Operation = slope == 0 ? .unary(.relu) : .activation(.leakyReLU(slope: slope))
                define(layer, graph.add(layer.name, operation, x))
            case "PReLU":
                let x = try inputs(of: layer, count: 1)
                let count = try p.int(0, default: 0)
                guard count >= 1, count <= NCNNImporter.maximumChannels else {
                    throw malformed(layer, "PReLU with \(count) slopes")
                }
                let slopes = try weights.loadRaw(count: count, layer: layer.name)
                let activation: Activation = count == 1 ? .leakyReLU(slope: slopes[0]) : .prelu(slopes: slopes)
                define(layer, graph.add(layer.name, .activation(activation), x))
            case "Sigmoid":
                define(layer, graph.add(layer.name, .unary(.sigmoid), try inputs(of: layer, count: 1)))
            case "Swish":
                define(layer, graph.add(layer.name, .unary(.swish), try inputs(of: layer, count: 1)))
            case "MemoryData":
                define(layer, try memoryData(layer, weights: &weights))
            case "Concat":
                let x = try inputs(of: layer)
                let axis = try p.int(0, default: 0)
                guard axis == 0 || axis == -3 else { throw unsupported(layer, "concatenation along axis \(axis)") }
                guard !x.isEmpty else { throw malformed(layer, "Concat without inputs") }
                define(layer, x.count == 1 ? x[0] : graph.add(layer.name, .concatenate, x))
            case "Eltwise":
                define(layer, try eltwise(layer))
            case "BinaryOp":
                define(layer, try binaryOp(layer))
            case "Interp":
                define(layer, try interp(layer))
            case "Pooling":
                define(layer, try pooling(layer))
            case "InnerProduct":
                define(layer, try innerProduct(layer, weights: &weights))
            case "Crop":
                define(layer, try crop(layer))
            case "Deconvolution":
                define(layer, try deconvolution(layer, weights: &weights))
            case "PixelShuffle":
                let x = try inputs(of: layer, count: 1)
                let factor = try p.int(0, default: 1)
                guard factor >= 1, factor <= NCNNImporter.maximumKernel else {
                    throw malformed(layer, "upscale factor \(factor)")
                }
                // ncnn mode 0 is PyTorch's channel order (CRD), mode 1 TensorFlow's DepthToSpace (DCR).
                switch try p.int(1, default: 0) {
                case 0: define(layer, graph.add(layer.name, .pixelShuffle(blockSize: factor), x))
                case 1: define(layer, graph.add(layer.name, .depthToSpace(blockSize: factor), x))
                case let mode: throw unsupported(layer, "mode \(mode)")
                }
            default:
                throw ModelError(
                    .unsupportedOperation,
                    source: source,
                    node: layer.name,
                    "layer type '\(layer.type)' is not supported (supported: "
                        + NCNNImporter.supportedLayers.sorted().joined(separator: ", ") + ")"
                )
            }
        }

        /// ncnn `Convolution`: stride 1, dilation 1, zero padding; weights `[out][in][kh][kw]` → HWIO.
        mutating func convolution(_ layer: NCNNParam.Layer, input: NodeID, weights: inout NCNNModelBin) throws -> NodeID
        {
            let p = layer.parameters
            let outputs = try p.int(0, default: 0)
            let kernelWidth = try p.int(1, default: 0)
            let kernelHeight = try p.int(11, default: kernelWidth)
            guard (1...NCNNImporter.maximumChannels).contains(outputs),
                (1...NCNNImporter.maximumKernel).contains(kernelWidth),
                (1...NCNNImporter.maximumKernel).contains(kernelHeight)
            else {
                throw malformed(layer, "num_output \(outputs), kernel \(kernelWidth)×\(kernelHeight)")
            }
            let dilationWidth = try p.int(2, default: 1)
            let dilationHeight = try p.int(12, default: dilationWidth)
            let strideWidth = try p.int(3, default: 1)
            let strideHeight = try p.int(13, default: strideWidth)
            guard dilationWidth == 1, dilationHeight == 1 else { throw unsupported(layer, "dilation other than 1") }
            if strideWidth != 1 || strideHeight != 1 {
                return try stridedConvolution(layer, input: input, weights: &weights)
            }
            guard try p.int(8, default: 0) == 0 else { throw unsupported(layer, "int8 quantization (int8_scale_term)") }
            guard try p.int(19, default: 0) == 0 else { throw unsupported(layer, "dynamic weights") }
            guard try p.float(18, default: 0) == 0 else { throw unsupported(layer, "padding with a non-zero value") }
            var padLeft = try p.int(4, default: 0)
            var padRight = try p.int(15, default: padLeft)
            var padTop = try p.int(14, default: padLeft)
            var padBottom = try p.int(16, default: padTop)
            if [padLeft, padRight, padTop, padBottom].allSatisfy({ $0 == -233 || $0 == -234 }) {
                // ncnn's SAME_UPPER (-233: the odd pixel after) and SAME_LOWER (-234: before), for stride 1.
                let upper = padLeft == -233
                padLeft = upper ? (kernelWidth - 1) / 2 : kernelWidth / 2
                padRight = kernelWidth - 1 - padLeft
                padTop = upper ? (kernelHeight - 1) / 2 : kernelHeight / 2
                padBottom = kernelHeight - 1 - padTop
            }
            guard [padLeft, padRight, padTop, padBottom].allSatisfy({ (0...NCNNImporter.maximumKernel).contains($0) })
            else {
                throw unsupported(layer, "padding \(padLeft),\(padRight),\(padTop),\(padBottom)")
            }
            let weightCount = try p.int(6, default: 0)
            let perInput = outputs * kernelHeight * kernelWidth
            guard weightCount > 0, weightCount % perInput == 0 else {
                throw malformed(
                    layer,
                    "weight_data_size \(weightCount) is not a multiple of \(outputs)×\(kernelHeight)×\(kernelWidth)"
                )
            }
            let inputs = weightCount / perInput
            let activation: Activation
            let activationParameters = try p.floats(10)
            switch try p.int(9, default: 0) {
            case 0: activation = .none
            case 1: activation = .relu
            case 2:
                let slope = activationParameters.first ?? 0
                activation = slope == 0 ? .relu : .leakyReLU(slope: slope)
            case let type: throw unsupported(layer, "fused activation type \(type)")
            }
            let raw = try weights.loadTagged(count: weightCount, layer: layer.name).values
            let bias = try p.int(5, default: 0) != 0 ? try weights.loadRaw(count: outputs, layer: layer.name) : nil
            let hwio = WeightLayout.hwio(
                oihw: raw, outputs: outputs, inputs: inputs, kernelHeight: kernelHeight, kernelWidth: kernelWidth)
            let geometry = ConvolutionGeometry(
                kernelHeight: kernelHeight,
                kernelWidth: kernelWidth,
                inputChannels: inputs,
                outputChannels: outputs,
                padTop: padTop,
                padLeft: padLeft,
                padBottom: padBottom,
                padRight: padRight
            )
            return graph.addConvolution(
                layer.name, input: input, geometry: geometry, weights: hwio, bias: bias, activation: activation)
        }

        /// ncnn `Eltwise`: 0 product, 1 sum (`a·c0 + b·c1 + …`, a coefficient of 1 is no multiply), 2 maximum.
        mutating func eltwise(_ layer: NCNNParam.Layer) throws -> NodeID {
            let x = try inputs(of: layer)
            guard x.count >= 2 else { throw malformed(layer, "Eltwise needs at least 2 inputs") }
            let p = layer.parameters
            let coefficients = try p.floats(1)
            let operation: BinaryOperation
            switch try p.int(0, default: 1) {
            case 0: operation = .multiply
            case 1: operation = .add
            case 2: operation = .maximum
            case let type: throw unsupported(layer, "operation \(type)")
            }
            var terms = x
            if operation == .add, !coefficients.isEmpty {
                guard coefficients.count == x.count else {
                    throw malformed(layer, "\(coefficients.count) coefficients for \(x.count) inputs")
                }
                for (index, coefficient) in coefficients.enumerated() where coefficient != 1 {
                    let factor = graph.add("\(layer.name)/coefficient\(index)", .constant(Tensor(scalar: coefficient)))
                    terms[index] = graph.add("\(layer.name)/scaled\(index)", .binary(.multiply), [x[index], factor])
                }
            }
            var result = terms[0]
            for (index, term) in terms.enumerated().dropFirst() {
                let name = index == terms.count - 1 ? layer.name : "\(layer.name)/partial\(index)"
                result = graph.add(name, .binary(operation), [result, term])
            }
            return result
        }

        /// ncnn `BinaryOp`: add, sub, mul, max, min, rsub, with a second blob or a scalar (`1=1 2=b`).
        mutating func binaryOp(_ layer: NCNNParam.Layer) throws -> NodeID {
            let p = layer.parameters
            let withScalar = try p.int(1, default: 0) != 0
            let x = try inputs(of: layer, count: withScalar ? 1 : 2)
            var operands = x
            if withScalar {
                operands.append(
                    graph.add("\(layer.name)/b", .constant(Tensor(scalar: try p.float(2, default: 0))))
                )
            }
            let operation: BinaryOperation
            switch try p.int(0, default: 0) {
            case 0: operation = .add
            case 1: operation = .subtract
            case 2: operation = .multiply
            case 4: operation = .maximum
            case 5: operation = .minimum
            case 7:
                operation = .subtract
                operands.reverse()
            case let type:
                throw unsupported(layer, "operation \(type) (add, sub, mul, max, min and rsub are supported)")
            }
            return graph.add(layer.name, .binary(operation), operands)
        }

        /// ncnn `MemoryData`: a constant `w × h × c` blob (`0=w 1=h 2=c`) stored as raw floats in the `.bin`. Only
        /// per-channel vectors (w = h = 1) and scalars occur in super-resolution networks (SPAN's mean), held as
        /// `[1, 1, 1, c]` so they broadcast over a feature map.
        mutating func memoryData(_ layer: NCNNParam.Layer, weights: inout NCNNModelBin) throws -> NodeID {
            _ = try inputs(of: layer, count: 0)
            let p = layer.parameters
            let width = try p.int(0, default: 0)
            let height = try p.int(1, default: 0)
            let channels = try p.int(2, default: 0)
            guard try p.int(11, default: 0) == 0 else { throw unsupported(layer, "a 4-D blob (depth)") }
            guard width == 1, height <= 1, (0...NCNNImporter.maximumChannels).contains(channels) else {
                throw unsupported(layer, "a \(width)×\(height)×\(channels) blob (per-channel vectors only)")
            }
            let count = max(channels, 1)
            let values = try weights.loadRaw(count: count, layer: layer.name)
            return graph.add(layer.name, .constant(Tensor(shape: [1, 1, 1, count], scalars: values)))
        }

        /// ncnn `Interp` with scale factors: 1 nearest, 3 bicubic (align_corner 0).
        mutating func interp(_ layer: NCNNParam.Layer) throws -> NodeID {
            let x = try inputs(of: layer, count: 1)
            let p = layer.parameters
            let mode: ResampleMode
            switch try p.int(0, default: 0) {
            case 1: mode = .nearest
            case 3: mode = .bicubic
            case let type: throw unsupported(layer, "resize type \(type) (1 nearest and 3 bicubic are supported)")
            }
            guard try p.int(3, default: 0) == 0, try p.int(4, default: 0) == 0 else {
                throw unsupported(layer, "a fixed output size (only scale factors fit a fully convolutional network)")
            }
            guard try p.int(5, default: 0) == 0 else { throw unsupported(layer, "a dynamic target size") }
            guard try p.int(6, default: 0) == 0 else { throw unsupported(layer, "align_corner") }
            let scaleY = try p.float(1, default: 1)
            let scaleX = try p.float(2, default: 1)
            guard scaleY > 0, scaleX > 0, scaleY <= 64, scaleX <= 64 else {
                throw malformed(layer, "scale factors \(scaleY), \(scaleX)")
            }
            return graph.add(layer.name, .resample(mode, scaleY: scaleY, scaleX: scaleX), x)
        }

        /// The graph outputs: the blobs no layer reads, `output` first if there is one (the blob the reference
        /// programs extract).
        mutating func markOutputs(_ param: NCNNParam) throws(ModelError) {
            var ends: [String] = []
            // A Split output nobody reads is no result of the network.
            for layer in param.layers where layer.type != "Input" && layer.type != "Split" {
                for output in layer.outputs where !read.contains(output) { ends.append(output) }
            }
            guard !ends.isEmpty else {
                throw ModelError(
                    .notSuperResolution,
                    source: source,
                    "no layer output is left unread: no network output"
                )
            }
            if let main = ends.firstIndex(of: "output") { ends.insert(ends.remove(at: main), at: 0) }
            for name in ends { graph.addOutput(name, blobs[name]!) }
        }
    }
}
