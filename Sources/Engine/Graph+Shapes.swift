import Kernels
import Tensor

extension Graph {
    /// The shape of every node's value when the single input has `inputShape`; throws on the first mismatch.
    package func inferShapes(inputShape: [Int]) throws(GraphError) -> [[Int]] {
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
        case .binary, .sigmoidGate:
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
            return try bounded(
                height: input.height, width: input.width, times: s, channels: input.channels / (s * s), node: node)
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
            // In Double with a bound first: chained resamples can grow past what an Int holds.
            let height = (Double(input.height) * Double(scaleY)).rounded(.down)
            let width = (Double(input.width) * Double(scaleX)).rounded(.down)
            guard height.isFinite, width.isFinite, height <= Double(Self.maxFeatureMapSide),
                width <= Double(Self.maxFeatureMapSide)
            else { throw Self.tooLarge(node, "\(input) × \(scaleY), \(scaleX)") }
            guard height >= 1, width >= 1 else {
                throw GraphError(.shapeMismatch, node: node.name, "resampling \(input) gives an empty map")
            }
            return try bounded(height: Int(height), width: Int(width), times: 1, channels: input.channels, node: node)
        case .pixelShuffle(let s):
            guard let input = FeatureMapShape(nhwc: inputShapes[0]), s > 0, input.channels % (s * s) == 0 else {
                throw GraphError(.shapeMismatch, node: node.name, "PixelShuffle(\(s)) cannot split \(inputShapes[0])")
            }
            return try bounded(
                height: input.height, width: input.width, times: s, channels: input.channels / (s * s), node: node)
        case .crop(let top, let left, let bottom, let right):
            guard let input = FeatureMapShape(nhwc: inputShapes[0]), min(top, left, bottom, right) >= 0,
                input.height - top - bottom >= 1, input.width - left - right >= 1
            else {
                throw GraphError(
                    .shapeMismatch, node: node.name,
                    "cropping \(top), \(left), \(bottom), \(right) pixels leaves nothing of \(inputShapes[0])")
            }
            return FeatureMapShape(
                height: input.height - top - bottom, width: input.width - left - right, channels: input.channels
            ).nhwc
        case .channelReduce:
            guard let input = FeatureMapShape(nhwc: inputShapes[0]) else {
                throw GraphError(.shapeMismatch, node: node.name, "reducing the channels of \(inputShapes[0])")
            }
            return [1, input.height, input.width, 1]
        case .pad(let top, let left, let bottom, let right, let mode):
            guard let input = FeatureMapShape(nhwc: inputShapes[0]), min(top, left, bottom, right) >= 0,
                mode == .edge || max(top, bottom) < input.height && max(left, right) < input.width
            else {
                throw GraphError(
                    .shapeMismatch, node: node.name,
                    "padding \(top), \(left), \(bottom), \(right) pixels (\(mode.rawValue)) does not fit \(inputShapes[0])")
            }
            return try bounded(
                height: input.height + top + bottom, width: input.width + left + right, times: 1,
                channels: input.channels, node: node)
        case .spaceToDepth(let s):
            guard let input = FeatureMapShape(nhwc: inputShapes[0]), s > 0, input.height >= s, input.width >= s else {
                throw GraphError(.shapeMismatch, node: node.name, "SpaceToDepth(\(s)) cannot fold \(inputShapes[0])")
            }
            let (channels, overflow) = input.channels.multipliedReportingOverflow(by: s * s)
            guard !overflow, channels <= maxFeatureMapElements else { throw Self.tooLarge(node, "\(input) × \(s)²") }
            return FeatureMapShape(height: input.height / s, width: input.width / s, channels: channels).nhwc
        case .addCropped(let top, let left, let bottom, let right):
            let cropped = try shape(
                of: Node(name: node.name, operation: .crop(top: top, left: left, bottom: bottom, right: right)),
                inputShapes: [inputShapes[0]], graphInput: graphInput)
            guard let shape = broadcastShape(cropped, inputShapes[1]) else {
                throw GraphError(
                    .shapeMismatch, node: node.name, "shapes \(cropped) and \(inputShapes[1]) do not broadcast")
            }
            return shape
        case .globalAveragePool:
            guard let input = FeatureMapShape(nhwc: inputShapes[0]) else {
                throw GraphError(.shapeMismatch, node: node.name, "pooling input \(inputShapes[0]) is not NHWC")
            }
            return FeatureMapShape(height: 1, width: 1, channels: input.channels).nhwc
        }
    }

    /// The largest side of a feature map (2^24 pixels) and the most values in one (2^36): beyond either, a network
    /// (e.g. chained upsampling layers) is refused in shape inference instead of overflowing or exhausting memory.
    package static let maxFeatureMapSide = 1 << 24
    /// The most values one feature map may hold (2^36); see `maxFeatureMapSide`.
    package static let maxFeatureMapElements = 1 << 36

    /// `[1, height × times, width × times, channels]`, or an error when it is beyond the bounds above.
    static func bounded(height: Int, width: Int, times: Int, channels: Int, node: Node) throws(GraphError) -> [Int] {
        let (h, hOverflow) = height.multipliedReportingOverflow(by: times)
        let (w, wOverflow) = width.multipliedReportingOverflow(by: times)
        guard !hOverflow, !wOverflow, h <= maxFeatureMapSide, w <= maxFeatureMapSide else {
            throw tooLarge(node, "\(height)×\(width) × \(times)")
        }
        // h, w ≤ 2^24: h × w cannot overflow.
        let (elements, overflow) = (h * w).multipliedReportingOverflow(by: channels)
        guard !overflow, elements <= maxFeatureMapElements else {
            throw tooLarge(node, "\(h)×\(w)×\(channels)")
        }
        return FeatureMapShape(height: h, width: w, channels: channels).nhwc
    }

    private static func tooLarge(_ node: Node, _ what: String) -> GraphError {
        GraphError(
            .shapeMismatch, node: node.name,
            "the feature map grows to \(what), beyond \(maxFeatureMapSide) pixels per side or \(maxFeatureMapElements) "
                + "values: the network enlarges far more than a super-resolution model")
    }

    /// How far the network looks around a pixel, and how much it enlarges.
    package struct ReceptiveField: Sendable, Equatable {
        /// Input pixels of context needed on every side so that a tile's interior equals the whole-image result.
        package var margin: Int
        /// Output size ÷ input size of the main output.
        package var scale: Int
    }

    /// The receptive field of output `outputIndex`: zero padding reaches `margin` input pixels into the image.
    package func receptiveField(output outputIndex: Int = 0) -> ReceptiveField {
        // Per node: (cumulative upscale, context radius in that node's own pixels).
        var scale = [Int](repeating: 1, count: nodes.count)
        var radius = [Int](repeating: 0, count: nodes.count)
        for (id, node) in nodes.enumerated() {
            let featureInputs = node.inputs.filter { constant($0) == nil }
            scale[id] = featureInputs.map { scale[$0] }.max() ?? 1
            // Align every input to this node's resolution before taking the widest context.
            radius[id] = featureInputs.map { saturatingProduct(radius[$0], scale[id]) / max(1, scale[$0]) }.max() ?? 0
            switch node.operation {
            case .convolution(let g, _):
                radius[id] = saturatingSum(radius[id], max(g.padTop, g.padBottom, g.padLeft, g.padRight))
            case .depthToSpace(let s), .pixelShuffle(let s):
                scale[id] = saturatingProduct(scale[id], s)
                radius[id] = saturatingProduct(radius[id], s)
            case .spaceToDepth, .globalAveragePool:
                // Down-sampling U-Nets and whole-map means: no finite margin makes tiles equal the whole image (the
                // families that use them carry their own context and share the means across tiles).
                radius[id] = Int.max
            case .resample(let mode, let scaleY, _):
                // Integer upsampling multiplies the scale; cubic taps reach 2 source pixels further, linear 1.
                let factor = max(1, clampedInt(scaleY.rounded()))
                if scaleY >= 1, Float(factor) == scaleY {
                    scale[id] = saturatingProduct(scale[id], factor)
                    radius[id] = saturatingSum(
                        saturatingProduct(radius[id], factor),
                        [.bicubic, .bicubicAsymmetric].contains(mode)
                            ? saturatingProduct(2, factor)
                            : [.bilinear, .bilinearAsymmetric].contains(mode) ? factor : 0)
                } else {
                    // A fractional resample (e.g. 0.75 after 4×): keep the scale in whole steps, widen the field.
                    let step = max(1, clampedInt((1 / scaleY).rounded(.up)))
                    radius[id] = saturatingSum(radius[id], saturatingProduct(2, step))
                }
            default:
                break
            }
        }
        let out = outputs[outputIndex].node
        let s = max(1, scale[out])
        return ReceptiveField(margin: saturatingSum(radius[out], s - 1) / s, scale: s)
    }
}

/// `a × b`, or Int.max when that overflows (receptive fields of absurd graphs saturate instead of trapping).
private func saturatingProduct(_ a: Int, _ b: Int) -> Int {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    return overflow ? Int.max : product
}

/// `a + b`, or Int.max when that overflows.
private func saturatingSum(_ a: Int, _ b: Int) -> Int {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? Int.max : sum
}

/// `value` as an Int, clamped to 0...2^24 (NaN gives 0): for scale factors read from a file.
private func clampedInt(_ value: Float) -> Int {
    guard value.isFinite, value > 0 else { return 0 }
    return value >= Float(1 << 24) ? 1 << 24 : Int(value)
}
