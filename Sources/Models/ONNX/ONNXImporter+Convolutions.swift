import Engine
import Foundation
import Kernels
import Tensor

// Conv, ConvTranspose and Resize/Upsample.

extension ONNXImporter.Builder {
    /// `Conv`: weights `[O, I/group, kh, kw]` to HWIO. Groups become a block-diagonal dense kernel and dilation a
    /// kernel with zeros between its taps (exact, at the dense kernel's cost); a stride s needs an s × s kernel
    /// without padding (SpaceToDepth and a 1 × 1 convolution). A pending zero Pad joins the convolution's padding.
    mutating func convolution(_ node: ONNXNode) throws {
        var extra = [0, 0, 0, 0]
        let id: NodeID
        var shape: MapShape
        if case .padded(let padded, let inner, let pads) = try input(node, 0) {
            (id, shape, extra) = (padded, inner, pads)
        } else {
            (id, shape) = try mapInput(node, 0)
        }
        guard shape.rank == 4 else { throw unsupported(node, "a convolution of a flattened vector") }
        guard let weights = try constantFloats(node, 1), weights.shape.count == 4 else {
            throw unsupported(node, "2-D convolutions with constant weights are supported")
        }
        let (outputs, perGroup, kh, kw) = (weights.shape[0], weights.shape[1], weights.shape[2], weights.shape[3])
        let group = int(node, "group", default: 1)
        guard group >= 1, perGroup * group == shape.channels, outputs % group == 0 else {
            throw malformed(node, "weights \(weights.shape) in \(group) group(s) for \(shape.channels) channels")
        }
        guard (1...ONNXImporter.maximumChannels).contains(outputs), (1...ONNXImporter.maximumKernel).contains(kh),
            (1...ONNXImporter.maximumKernel).contains(kw)
        else { throw malformed(node, "weights \(weights.shape)") }
        if let kernel = ints(node, "kernel_shape"), kernel != [kh, kw] {
            throw malformed(node, "kernel_shape \(kernel) and weights \(weights.shape) differ")
        }
        let dilations = ints(node, "dilations") ?? [1, 1]
        let strides = ints(node, "strides") ?? [1, 1]
        guard dilations.count == 2, strides.count == 2, dilations.allSatisfy({ (1...16).contains($0) }),
            strides.allSatisfy({ (1...16).contains($0) })
        else { throw unsupported(node, "dilations \(dilations), strides \(strides)") }
        // The dense kernel: dilation spreads the taps.
        let (dy, dx) = (dilations[0], dilations[1])
        let (kernelHeight, kernelWidth) = (dy * (kh - 1) + 1, dx * (kw - 1) + 1)
        let bias = try constantFloats(node, 2)?.asFloats
        guard bias.map({ $0.count == outputs }) ?? true else { throw malformed(node, "bias of \(bias?.count ?? 0)") }
        var pads = ints(node, "pads") ?? [0, 0, 0, 0]
        switch string(node, "auto_pad", default: "NOTSET") {
        case "NOTSET": break
        case "VALID": pads = [0, 0, 0, 0]
        case let mode where mode == "SAME_UPPER" || mode == "SAME_LOWER":
            guard strides == [1, 1] else { throw unsupported(node, "\(mode) with a stride") }
            let (th, tw) = (kernelHeight - 1, kernelWidth - 1)
            pads = mode == "SAME_UPPER" ? [th / 2, tw / 2, th - th / 2, tw - tw / 2] : [th - th / 2, tw - tw / 2, th / 2, tw / 2]
        case let mode: throw unsupported(node, "auto_pad \(mode)")
        }
        guard pads.count == 4, pads.allSatisfy({ (0...ONNXImporter.maximumKernel).contains($0) }) else {
            throw unsupported(node, "pads \(pads)")
        }
        let padding = zip(pads, extra).map { $0 + $1 }
        let w = weights.floats
        let outputsPerGroup = outputs / group
        let inputs = shape.channels
        let weight = { (o: Int, i: Int, ky: Int, kx: Int) -> Float in
            let g = o / outputsPerGroup
            let local = i - g * perGroup
            guard local >= 0, local < perGroup, ky % dy == 0, kx % dx == 0 else { return 0 }
            return w[((o * perGroup + local) * kh + ky / dy) * kw + kx / dx]
        }
        if strides != [1, 1] {
            let s = strides[0]
            guard strides[1] == s, kernelHeight == s, kernelWidth == s, padding == [0, 0, 0, 0] else {
                throw unsupported(node, "stride \(strides) with a \(kh)×\(kw) kernel (an s × s kernel without padding)")
            }
            let fold = graph.add(node.label + "/fold", .spaceToDepth(blockSize: s), [id])
            let hwio = WeightLayout.spaceToDepthPointwise(outputs: outputs, inputs: inputs, stride: s, weight)
            let geometry = ConvolutionGeometry(
                kernelHeight: 1, kernelWidth: 1, inputChannels: s * s * inputs, outputChannels: outputs, padTop: 0,
                padLeft: 0, padBottom: 0, padRight: 0)
            shape = MapShape(channels: outputs, height: shape.height.scaled(1 / Double(s)), width: shape.width.scaled(1 / Double(s)))
            define(node, .map(convolutionNode(node.label, geometry, input: fold, weights: hwio, bias: bias), shape))
            return
        }
        let hwio = WeightLayout.hwio(
            outputs: outputs, inputs: inputs, kernelHeight: kernelHeight, kernelWidth: kernelWidth, weight)
        let geometry = ConvolutionGeometry(
            kernelHeight: kernelHeight, kernelWidth: kernelWidth, inputChannels: inputs, outputChannels: outputs,
            padTop: padding[0], padLeft: padding[1], padBottom: padding[2], padRight: padding[3])
        shape.channels = outputs
        shape.height = shape.height + .constant(Double(padding[0] + padding[2] - kernelHeight + 1))
        shape.width = shape.width + .constant(Double(padding[1] + padding[3] - kernelWidth + 1))
        define(node, .map(convolutionNode(node.label, geometry, input: id, weights: hwio, bias: bias), shape))
    }

    /// `ConvTranspose` (weights `[I, O, kh, kw]`, one group, equal strides): per output phase a convolution,
    /// interleaved by DepthToSpace and cropped by the pads (less the output padding).
    mutating func transposedConvolution(_ node: ONNXNode) throws {
        let (id, shape) = try mapInput(node, 0)
        guard let weights = try constantFloats(node, 1), weights.shape.count == 4 else {
            throw unsupported(node, "2-D transposed convolutions with constant weights are supported")
        }
        let (inputs, outputs, kh, kw) = (weights.shape[0], weights.shape[1], weights.shape[2], weights.shape[3])
        guard inputs == shape.channels, int(node, "group", default: 1) == 1 else {
            throw unsupported(node, "weights \(weights.shape) for \(shape.channels) channels (one group is supported)")
        }
        guard (1...ONNXImporter.maximumChannels).contains(outputs), (1...ONNXImporter.maximumKernel).contains(kh),
            (1...ONNXImporter.maximumKernel).contains(kw)
        else { throw malformed(node, "weights \(weights.shape)") }
        let strides = ints(node, "strides") ?? [1, 1]
        guard strides.count == 2, strides[0] == strides[1], (1...16).contains(strides[0]), strides[0] <= min(kh, kw)
        else { throw unsupported(node, "strides \(strides) (equal, at most the kernel)") }
        guard (ints(node, "dilations") ?? [1, 1]) == [1, 1] else { throw unsupported(node, "dilation") }
        guard node.attributes["output_shape"] == nil, string(node, "auto_pad", default: "NOTSET") == "NOTSET" else {
            throw unsupported(node, "output_shape or auto_pad (give pads)")
        }
        let pads = ints(node, "pads") ?? [0, 0, 0, 0]
        let outputPadding = ints(node, "output_padding") ?? [0, 0]
        guard pads.count == 4, pads.allSatisfy({ (0...ONNXImporter.maximumKernel).contains($0) }), outputPadding.count == 2
        else { throw unsupported(node, "pads \(pads), output_padding \(outputPadding)") }
        let s = strides[0]
        let w = weights.floats
        let (geometry, hwio, extraBottom, extraRight) = WeightLayout.transposedConvolutionPhases(
            outputs: outputs, inputs: inputs, kernelHeight: kh, kernelWidth: kw, stride: s
        ) { o, i, ky, kx in w[((i * outputs + o) * kh + ky) * kw + kx] }
        let bias = try constantFloats(node, 2)?.asFloats
        guard bias.map({ $0.count == outputs }) ?? true else { throw malformed(node, "bias of \(bias?.count ?? 0)") }
        let phaseBias = bias.map { values in (0..<geometry.outputChannels).map { values[$0 % outputs] } }
        let convolved = convolutionNode(node.label + "/phases", geometry, input: id, weights: hwio, bias: phaseBias)
        var result = graph.add(node.label + "/interleave", .depthToSpace(blockSize: s), [convolved])
        let bottom = pads[2] + extraBottom - outputPadding[0]
        let right = pads[3] + extraRight - outputPadding[1]
        guard bottom >= 0, right >= 0 else { throw unsupported(node, "output_padding \(outputPadding)") }
        if (pads[0], pads[1], bottom, right) != (0, 0, 0, 0) {
            result = graph.add(node.label, .crop(top: pads[0], left: pads[1], bottom: bottom, right: right), [result])
        }
        let grow = { (n: SymbolicSize, k: Int, before: Int, after: Int, extra: Int) -> SymbolicSize in
            n.scaled(Double(s)) + .constant(Double(k - s - before - after + extra))
        }
        let out = MapShape(
            channels: outputs, height: grow(shape.height, kh, pads[0], pads[2], outputPadding[0]),
            width: grow(shape.width, kw, pads[1], pads[3], outputPadding[1]))
        define(node, .map(result, out))
    }

    /// `Resize` and `Upsample` by whole factors: nearest neighbour (any coordinate mode that picks ⌊y/s⌋ for whole
    /// factors), linear or cubic (a = −0.75, edge pixels repeated: the engine's bicubic), each with half-pixel centres
    /// (PyTorch's) or asymmetric coordinates (TensorFlow 1's); align_corners is refused (no tile could reproduce its
    /// grid). The factors come from `scales`, or from `sizes` in terms of the input's size.
    mutating func resize(_ node: ONNXNode) throws {
        let (id, shape) = try mapInput(node, 0)
        guard shape.rank == 4 else { throw unsupported(node, "resizing a flattened vector") }
        var scales: [Double]?
        if node.opType == "Upsample" {
            if let list = node.attributes["scales"]?.floats, !list.isEmpty {
                scales = list.map { Double($0) }
            } else {
                scales = try constantFloats(node, 1)?.asFloats.map { Double($0) }
            }
        } else {
            let scaleIndex = opset < 11 ? 1 : 2
            if let given = try constantFloats(node, scaleIndex), given.count > 0 {
                scales = given.asFloats.map { Double($0) }
            } else if opset >= 11, case .sizes(let sizes, false) = try input(node, 3) {
                guard sizes.count == 4 else { throw malformed(node, "\(sizes.count) sizes") }
                func ratio(_ out: SymbolicSize, _ input: SymbolicSize) -> Double? {
                    if let fixed = fixedInputSize, let value = out.integer {
                        return Double(value) / input.value(height: fixed.height, width: fixed.width)
                    }
                    if out.c == 0, input.c == 0, input.h != 0, out.w * input.h == out.h * input.w {
                        return out.h / input.h
                    }
                    if out.c == 0, input.c == 0, input.w != 0, input.h == 0, out.h == 0 { return out.w / input.w }
                    return nil
                }
                guard let sy = ratio(sizes[2], shape.height), let sx = ratio(sizes[3], shape.width) else {
                    throw unsupported(node, "sizes \(sizes) that are not a whole multiple of the input's")
                }
                scales = [1, 1, sy, sx]
            }
        }
        guard let scales, scales.count == 4, scales[0] == 1, scales[1] == 1 else {
            throw unsupported(node, "scales \(scales ?? []) (the height and width, by constant factors)")
        }
        let (sy, sx) = (scales[2], scales[3])
        guard sy > 0, sx > 0, sy <= 16, sx <= 16 else { throw unsupported(node, "scale factors \(sy), \(sx)") }
        let out = MapShape(channels: shape.channels, height: shape.height.scaled(sy), width: shape.width.scaled(sx))
        let mode = string(node, "mode", default: "nearest")
        let transformation = string(
            node, "coordinate_transformation_mode", default: opset < 11 ? "asymmetric" : "half_pixel")
        if node.attributes["antialias"]?.int ?? 0 != 0, sy < 1 || sx < 1 {
            throw unsupported(node, "antialiased downscaling")
        }
        switch mode {
        case "nearest":
            let rounding = string(node, "nearest_mode", default: opset < 11 ? "floor" : "round_prefer_floor")
            for s in [sy, sx] {
                guard s == s.rounded(), Self.nearestPicksFloor(
                    scale: Int(s), transformation: transformation, rounding: node.opType == "Upsample" ? "floor" : rounding)
                else {
                    throw unsupported(
                        node,
                        "nearest resize by \(s) with \(transformation)/\(rounding) (whole factors whose source pixel is "
                            + "⌊y/s⌋ are supported)")
                }
            }
            defineMap(node, .resample(.nearest, scaleY: Float(sy), scaleX: Float(sx)), [id], out)
        case "cubic", "linear":
            let cubic = mode == "cubic"
            let a = float(node, "cubic_coeff_a", default: -0.75)
            guard !cubic || (a == -0.75 && int(node, "exclude_outside", default: 0) == 0) else {
                throw unsupported(node, "cubic resize with a = \(a) or exclude_outside (a = −0.75 is supported)")
            }
            let resample: ResampleMode
            switch transformation {
            case "half_pixel", "pytorch_half_pixel": resample = cubic ? .bicubic : .bilinear
            case "asymmetric": resample = cubic ? .bicubicAsymmetric : .bilinearAsymmetric
            case "align_corners":
                // Source d·(in − 1)/(out − 1): the grid depends on the whole picture's size, so tiles could not
                // reproduce it.
                throw unsupported(
                    node,
                    "\(mode) resize with align_corners (its sampling grid depends on the whole picture's size; "
                        + "re-export with align_corners=False)")
            default:
                throw unsupported(
                    node,
                    "\(mode) resize with \(transformation) "
                        + "(half_pixel, pytorch_half_pixel and asymmetric are supported)")
            }
            defineMap(node, .resample(resample, scaleY: Float(sy), scaleX: Float(sx)), [id], out)
        default:
            throw unsupported(node, "\(mode) resize (nearest, linear and cubic are supported)")
        }
    }

    /// Whether a nearest resize by the whole factor `scale` reads source pixel ⌊y/s⌋ for output pixel y, under the
    /// given coordinate transformation and rounding (checked on one block of outputs, which repeats).
    static func nearestPicksFloor(scale s: Int, transformation: String, rounding: String) -> Bool {
        let q = 7
        for r in 0..<s {
            let y = Double(q * s + r)
            let x: Double
            switch transformation {
            case "asymmetric": x = y / Double(s)
            case "half_pixel", "pytorch_half_pixel": x = (y + 0.5) / Double(s) - 0.5
            case "tf_half_pixel_for_nn": x = (y + 0.5) / Double(s)
            default: return false
            }
            let picked: Double
            switch rounding {
            case "floor": picked = x.rounded(.down)
            case "ceil": picked = x.rounded(.up)
            case "round_prefer_floor": picked = x - x.rounded(.down) == 0.5 ? x.rounded(.down) : x.rounded()
            case "round_prefer_ceil": picked = x - x.rounded(.down) == 0.5 ? x.rounded(.up) : x.rounded()
            default: return false
            }
            if picked != Double(q) { return false }
        }
        return true
    }
}
