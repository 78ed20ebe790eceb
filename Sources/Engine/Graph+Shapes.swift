import Kernels
import Tensor

extension Graph {
    /// The shape of every node's value when the single input has `inputShape`; throws on the first mismatch.
    public func inferShapes(inputShape: [Int]) throws(GraphError) -> [[Int]] {
        var shapes: [[Int]] = []
        shapes.reserveCapacity(nodes.count)
        for node in nodes {
            shapes.append(try Self.shape(of: node, inputShapes: node.inputs.map { shapes[$0] }, graphInput: inputShape))
        }
        return shapes
    }

    static func shape(of node: Node, inputShapes: [[Int]], graphInput: [Int]) throws(GraphError) -> [Int] {
        switch node.operation {
        case .input:
            return graphInput
        case .constant(let tensor):
            return tensor.shape
        case .convolution(let g, let epilogue):
            guard let input = FeatureMapShape(nhwc: inputShapes[0]) else {
                throw GraphError(.shapeMismatch, node: node.name, "convolution input \(inputShapes[0]) is not NHWC")
            }
            guard input.channels == g.inputChannels else {
                throw GraphError(
                    .shapeMismatch, node: node.name,
                    "convolution expects \(g.inputChannels) input channels, got \(input.channels)")
            }
            let out = g.outputShape(height: input.height, width: input.width)
            guard out.height > 0, out.width > 0 else {
                throw GraphError(.shapeMismatch, node: node.name, "input \(input) is smaller than the kernel")
            }
            if epilogue.addsResidual, inputShapes.count > 2, inputShapes[2] != out.nhwc {
                throw GraphError(.shapeMismatch, node: node.name, "residual \(inputShapes[2]) ≠ output \(out.nhwc)")
            }
            return out.nhwc
        case .binary:
            guard let shape = broadcastShape(inputShapes[0], inputShapes[1]) else {
                throw GraphError(
                    .shapeMismatch, node: node.name, "shapes \(inputShapes[0]) and \(inputShapes[1]) do not broadcast")
            }
            return shape
        case .unary, .activation:
            return inputShapes[0]
        case .depthToSpace(let s):
            guard let input = FeatureMapShape(nhwc: inputShapes[0]), s > 0, input.channels % (s * s) == 0 else {
                throw GraphError(
                    .shapeMismatch, node: node.name, "DepthToSpace(\(s)) cannot split \(inputShapes[0])")
            }
            return FeatureMapShape(height: input.height * s, width: input.width * s, channels: input.channels / (s * s))
                .nhwc
        case .transpose(let permutation):
            guard permutation.sorted() == Array(0..<inputShapes[0].count) else {
                throw GraphError(
                    .shapeMismatch, node: node.name, "permutation \(permutation) does not fit \(inputShapes[0])")
            }
            return permutation.map { inputShapes[0][$0] }
        case .concatenate:
            let maps = inputShapes.compactMap { FeatureMapShape(nhwc: $0) }
            guard maps.count == inputShapes.count, let first = maps.first,
                maps.allSatisfy({ $0.height == first.height && $0.width == first.width })
            else {
                throw GraphError(.shapeMismatch, node: node.name, "cannot concatenate \(inputShapes)")
            }
            return FeatureMapShape(height: first.height, width: first.width, channels: maps.reduce(0) { $0 + $1.channels })
                .nhwc
        case .resample(_, let scaleY, let scaleX):
            guard let input = FeatureMapShape(nhwc: inputShapes[0]) else {
                throw GraphError(.shapeMismatch, node: node.name, "resample input \(inputShapes[0]) is not NHWC")
            }
            let height = Int(Float(input.height) * scaleY)
            let width = Int(Float(input.width) * scaleX)
            guard height > 0, width > 0 else {
                throw GraphError(.shapeMismatch, node: node.name, "resampling \(input) gives an empty map")
            }
            return FeatureMapShape(height: height, width: width, channels: input.channels).nhwc
        case .pixelShuffle(let s):
            guard let input = FeatureMapShape(nhwc: inputShapes[0]), s > 0, input.channels % (s * s) == 0 else {
                throw GraphError(.shapeMismatch, node: node.name, "PixelShuffle(\(s)) cannot split \(inputShapes[0])")
            }
            return FeatureMapShape(height: input.height * s, width: input.width * s, channels: input.channels / (s * s))
                .nhwc
        }
    }

    /// How far the network looks around a pixel, and how much it enlarges.
    public struct ReceptiveField: Sendable, Equatable {
        /// Input pixels of context needed on every side so that a tile's interior equals the whole-image result.
        public var margin: Int
        /// Output size ÷ input size of the main output.
        public var scale: Int
    }

    /// The receptive field of output `outputIndex`: zero padding reaches `margin` input pixels into the image.
    public func receptiveField(output outputIndex: Int = 0) -> ReceptiveField {
        // Per node: (cumulative upscale, context radius in that node's own pixels).
        var scale = [Int](repeating: 1, count: nodes.count)
        var radius = [Int](repeating: 0, count: nodes.count)
        for (id, node) in nodes.enumerated() {
            let featureInputs = node.inputs.filter { constant($0) == nil }
            scale[id] = featureInputs.map { scale[$0] }.max() ?? 1
            // Align every input to this node's resolution before taking the widest context.
            radius[id] = featureInputs.map { radius[$0] * scale[id] / max(1, scale[$0]) }.max() ?? 0
            switch node.operation {
            case .convolution(let g, _):
                radius[id] += max(g.padTop, g.padBottom, g.padLeft, g.padRight)
            case .depthToSpace(let s), .pixelShuffle(let s):
                scale[id] *= s
                radius[id] *= s
            case .resample(let mode, let scaleY, _):
                // Integer upsampling multiplies the scale; cubic taps reach 2 source pixels further.
                let factor = max(1, Int(scaleY.rounded()))
                if scaleY >= 1, Float(factor) == scaleY {
                    scale[id] *= factor
                    radius[id] = radius[id] * factor + (mode == .bicubic ? 2 * factor : 0)
                } else {
                    // A fractional resample (e.g. 0.75 after 4×): keep the scale in whole steps, widen the field.
                    radius[id] += 2 * max(1, Int((1 / scaleY).rounded(.up)))
                }
            default:
                break
            }
        }
        let out = outputs[outputIndex].node
        let s = max(1, scale[out])
        return ReceptiveField(margin: (radius[out] + s - 1) / s, scale: s)
    }
}
