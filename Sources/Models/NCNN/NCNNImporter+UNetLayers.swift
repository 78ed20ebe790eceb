import Engine
import Kernels
import Tensor

// The layers of Real-CUGAN's U-Nets (ncnn's src/layer/{pooling,innerproduct,crop,deconvolution}.cpp and the strided
// convolution), mapped onto engine operations that compute the same values:
//   - a stride-s convolution with an s × s kernel is SpaceToDepth(s) and a 1 × 1 convolution;
//   - a transposed convolution of kernel k and stride s is, per output phase, a ⌈k/s⌉ × ⌈k/s⌉ convolution of the
//     input padded by ⌈k/s⌉ − 1: one convolution with s·s·C outputs, a DepthToSpace(s), then a Crop of the padding;
//   - global average pooling and InnerProduct on its `[1, 1, 1, C]` result (a 1 × 1 convolution) make the
//     squeeze-and-excitation vector that BinaryOp multiplies into the map per channel.

extension NCNNImporter.Builder {
    /// ncnn's fused activation (`9=type 10=params`) as a convolution epilogue, and whether a sigmoid follows it
    /// (type 4, which the epilogue does not have).
    func fusedActivation(_ layer: NCNNParam.Layer) throws -> (activation: Activation, thenSigmoid: Bool) {
        let p = layer.parameters
        let parameters = try p.floats(10)
        switch try p.int(9, default: 0) {
        case 0: return (.none, false)
        case 1: return (.relu, false)
        case 2:
            let slope = parameters.first ?? 0
            return (slope == 0 ? .relu : .leakyReLU(slope: slope), false)
        case 4: return (.none, true)
        case let type: throw unsupported(layer, "fused activation type \(type)")
        }
    }

    /// Adds `node`'s fused sigmoid when `thenSigmoid`; returns the layer's result.
    mutating func finishing(_ layer: NCNNParam.Layer, _ node: NodeID, thenSigmoid: Bool) -> NodeID {
        thenSigmoid ? graph.add(layer.name + "/sigmoid", .unary(.sigmoid), [node]) : node
    }

    /// A convolution node of HWIO `weights` on `input`.
    mutating func convolutionNode(
        _ name: String, input: NodeID, geometry: ConvolutionGeometry, weights: [Float], bias: [Float]?,
        activation: Activation
    ) -> NodeID {
        graph.addConvolution(
            name, input: input, geometry: geometry, weights: weights, bias: bias, activation: activation)
    }

    /// The counts of a weighted layer: `0=num_output`, `6=weight_data_size` a multiple of `num_output × perOutput`;
    /// returns (outputs, inputs).
    func weightCounts(_ layer: NCNNParam.Layer, perOutputAndInput: Int) throws -> (outputs: Int, inputs: Int, total: Int)
    {
        let p = layer.parameters
        let outputs = try p.int(0, default: 0)
        let total = try p.int(6, default: 0)
        guard (1...NCNNImporter.maximumChannels).contains(outputs), perOutputAndInput >= 1 else {
            throw malformed(layer, "num_output \(outputs)")
        }
        let (block, overflow) = outputs.multipliedReportingOverflow(by: perOutputAndInput)
        guard !overflow, total > 0, total % block == 0, total / block <= NCNNImporter.maximumChannels else {
            throw malformed(layer, "weight_data_size \(total) is not \(outputs) outputs × \(perOutputAndInput) × inputs")
        }
        return (outputs, total / block, total)
    }

    /// ncnn `Convolution` with stride s > 1: only an s × s kernel without padding (a U-Net's down-sampling step),
    /// run as SpaceToDepth(s) and a 1 × 1 convolution over the s·s·C folded channels.
    mutating func stridedConvolution(_ layer: NCNNParam.Layer, input: NodeID, weights: inout NCNNModelBin) throws
        -> NodeID
    {
        let p = layer.parameters
        let kernel = try p.int(1, default: 0)
        let stride = try p.int(3, default: 1)
        guard try p.int(11, default: kernel) == kernel, try p.int(13, default: stride) == stride, kernel == stride,
            (2...NCNNImporter.maximumKernel).contains(stride)
        else {
            throw unsupported(layer, "a stride other than 1 with a kernel other than stride × stride")
        }
        for key in [4, 14, 15, 16] where try p.int(key, default: 0) != 0 {
            throw unsupported(layer, "padding with a stride other than 1")
        }
        guard try p.int(8, default: 0) == 0, try p.int(19, default: 0) == 0 else {
            throw unsupported(layer, "int8 or dynamic weights")
        }
        let s = stride
        let (outputs, inputs, total) = try weightCounts(layer, perOutputAndInput: s * s)
        let (activation, thenSigmoid) = try fusedActivation(layer)
        let raw = try weights.loadTagged(count: total, layer: layer.name).values
        let bias = try p.int(5, default: 0) != 0 ? try weights.loadRaw(count: outputs, layer: layer.name) : nil
        let folded = s * s * inputs
        let hwio = WeightLayout.spaceToDepthPointwise(outputs: outputs, inputs: inputs, stride: s) { o, i, ky, kx in
            raw[((o * inputs + i) * s + ky) * s + kx]
        }
        let fold = graph.add(layer.name + "/fold", .spaceToDepth(blockSize: s), [input])
        let geometry = ConvolutionGeometry(
            kernelHeight: 1, kernelWidth: 1, inputChannels: folded, outputChannels: outputs, padTop: 0, padLeft: 0,
            padBottom: 0, padRight: 0)
        let node = convolutionNode(
            layer.name, input: fold, geometry: geometry, weights: hwio, bias: bias, activation: activation)
        return finishing(layer, node, thenSigmoid: thenSigmoid)
    }

    /// ncnn `Deconvolution` (transposed convolution, weights `[out][in][kh][kw]`, output
    /// `(n − 1)·s + k − pads`): per output phase a convolution over the input padded by ⌈k/s⌉ − 1, all phases in one
    /// convolution of s·s·out channels, interleaved by DepthToSpace(s), the padding and the pixels past `(n−1)·s + k`
    /// cropped.
    mutating func deconvolution(_ layer: NCNNParam.Layer, weights: inout NCNNModelBin) throws -> NodeID {
        let x = try inputs(of: layer, count: 1)
        let p = layer.parameters
        let kernelWidth = try p.int(1, default: 0)
        let kernelHeight = try p.int(11, default: kernelWidth)
        let strideWidth = try p.int(3, default: 1)
        let strideHeight = try p.int(13, default: strideWidth)
        guard (1...NCNNImporter.maximumKernel).contains(kernelWidth),
            (1...NCNNImporter.maximumKernel).contains(kernelHeight)
        else { throw malformed(layer, "kernel \(kernelWidth)×\(kernelHeight)") }
        guard strideWidth == strideHeight, (1...NCNNImporter.maximumKernel).contains(strideWidth) else {
            throw unsupported(layer, "strides \(strideWidth)×\(strideHeight) (equal strides up to 64 are supported)")
        }
        // A stride beyond the kernel leaves gaps no network wants, and would make the phase convolution s²/k² times
        // the file's weights.
        guard strideWidth <= kernelWidth, strideWidth <= kernelHeight else {
            throw unsupported(layer, "a stride larger than the kernel")
        }
        guard try p.int(2, default: 1) == 1, try p.int(12, default: 1) == 1 else {
            throw unsupported(layer, "dilation other than 1")
        }
        for key in [18, 19, 20, 21] where try p.int(key, default: 0) != 0 {
            throw unsupported(layer, "output padding or a fixed output size")
        }
        guard try p.int(28, default: 0) == 0 else { throw unsupported(layer, "dynamic weights") }
        let padLeft = try p.int(4, default: 0)
        let padRight = try p.int(15, default: padLeft)
        let padTop = try p.int(14, default: padLeft)
        let padBottom = try p.int(16, default: padTop)
        guard [padLeft, padRight, padTop, padBottom].allSatisfy({ (0...NCNNImporter.maximumKernel).contains($0) })
        else { throw unsupported(layer, "padding \(padLeft),\(padRight),\(padTop),\(padBottom)") }
        let s = strideWidth
        let (outputs, inputs, total) = try weightCounts(layer, perOutputAndInput: kernelHeight * kernelWidth)
        let (activation, thenSigmoid) = try fusedActivation(layer)
        let raw = try weights.loadTagged(count: total, layer: layer.name).values
        let bias = try p.int(5, default: 0) != 0 ? try weights.loadRaw(count: outputs, layer: layer.name) : nil
        let (geometry, hwio, extraBottom, extraRight) = WeightLayout.transposedConvolutionPhases(
            outputs: outputs, inputs: inputs, kernelHeight: kernelHeight, kernelWidth: kernelWidth, stride: s
        ) { o, i, ky, kx in raw[((o * inputs + i) * kernelHeight + ky) * kernelWidth + kx] }
        let phases = geometry.outputChannels
        let phaseBias = bias.map { values in (0..<phases).map { values[$0 % outputs] } }
        let convolved = convolutionNode(
            layer.name + "/phases", input: x[0], geometry: geometry, weights: hwio, bias: phaseBias,
            activation: activation)
        var result = graph.add(layer.name + "/interleave", .depthToSpace(blockSize: s), [convolved])
        // The interleaved map is s·(n + K − 1) long: s·K − k more than ncnn's uncut (n − 1)·s + k.
        let cut = (padTop, padLeft, padBottom + extraBottom, padRight + extraRight)
        if cut != (0, 0, 0, 0) {
            result = graph.add(
                layer.name, .crop(top: cut.0, left: cut.1, bottom: cut.2, right: cut.3), [result])
        }
        return finishing(layer, result, thenSigmoid: thenSigmoid)
    }

    /// ncnn `Pooling`: global average pooling only (`0=1 4=1`), the squeeze of squeeze-and-excitation blocks.
    mutating func pooling(_ layer: NCNNParam.Layer) throws -> NodeID {
        let x = try inputs(of: layer, count: 1)
        let p = layer.parameters
        guard try p.int(4, default: 0) == 1 else { throw unsupported(layer, "pooling other than global pooling") }
        guard try p.int(0, default: 0) == 1 else { throw unsupported(layer, "global max pooling (average only)") }
        return graph.add(layer.name, .globalAveragePool, x)
    }

    /// ncnn `InnerProduct` on a pooled `[1, 1, 1, C]` vector (weights `[out][in]`): a 1 × 1 convolution; its
    /// fused ReLU, leaky ReLU or sigmoid after it.
    mutating func innerProduct(_ layer: NCNNParam.Layer, weights: inout NCNNModelBin) throws -> NodeID {
        let x = try inputs(of: layer, count: 1)
        let p = layer.parameters
        guard try p.int(8, default: 0) == 0 else { throw unsupported(layer, "int8 quantization") }
        let outputs = try p.int(0, default: 0)
        let total = try p.int(2, default: 0)
        guard (1...NCNNImporter.maximumChannels).contains(outputs), total > 0, total % outputs == 0,
            total / outputs <= NCNNImporter.maximumChannels
        else { throw malformed(layer, "num_output \(outputs), weight_data_size \(total)") }
        let inputs = total / outputs
        let (activation, thenSigmoid) = try fusedActivation(layer)
        let raw = try weights.loadTagged(count: total, layer: layer.name).values
        let bias = try p.int(1, default: 0) != 0 ? try weights.loadRaw(count: outputs, layer: layer.name) : nil
        var hwio = [Float](repeating: 0, count: total)
        for o in 0..<outputs {
            for i in 0..<inputs { hwio[i * outputs + o] = raw[o * inputs + i] }
        }
        let geometry = ConvolutionGeometry(
            kernelHeight: 1, kernelWidth: 1, inputChannels: inputs, outputChannels: outputs, padTop: 0, padLeft: 0,
            padBottom: 0, padRight: 0)
        let node = convolutionNode(
            layer.name, input: x[0], geometry: geometry, weights: hwio, bias: bias, activation: activation)
        return finishing(layer, node, thenSigmoid: thenSigmoid)
    }

    /// ncnn `Crop` of the height and width: by `-23309` starts / `-23310` ends (negative: from the end) /
    /// `-23311` axes (h and w), or by offsets `0=w 1=h` and end offsets `6=w 7=h`. Channels are never cropped.
    mutating func crop(_ layer: NCNNParam.Layer) throws -> NodeID {
        let x = try inputs(of: layer, count: 1)
        let p = layer.parameters
        var cut = (top: 0, left: 0, bottom: 0, right: 0)
        let starts = try p.ints(9)
        if !starts.isEmpty {
            let ends = try p.ints(10)
            let axes = try p.ints(11)
            guard ends.count == starts.count, axes.count == starts.count else {
                throw malformed(layer, "\(starts.count) starts, \(ends.count) ends, \(axes.count) axes")
            }
            for (index, axis) in axes.enumerated() {
                // Axes of a c·h·w blob: h is 1 or −2, w is 2 or −1. Only ends counted from the end (or INT_MAX, "to the
                // end") fit every input size.
                let start = starts[index]
                let end = ends[index] == Int(Int32.max) ? 0 : ends[index]
                guard start >= 0, start <= NCNNImporter.maximumChannels, end < 0 || ends[index] == Int(Int32.max),
                    end >= -NCNNImporter.maximumChannels
                else {
                    throw unsupported(layer, "crop \(start)..<\(end) (an end counted from the end is needed)")
                }
                switch axis {
                case 1, -2: (cut.top, cut.bottom) = (start, -end)
                case 2, -1: (cut.left, cut.right) = (start, -end)
                default: throw unsupported(layer, "cropping axis \(axis) (height and width only)")
                }
            }
        } else {
            for key in [2, 3, 4, 5, 8, 13, 14, 15] where try p.int(key, default: 0) != 0 {
                throw unsupported(layer, "parameter \(key) (only width and height offsets are supported)")
            }
            cut = (
                try p.int(1, default: 0), try p.int(0, default: 0), try p.int(7, default: 0), try p.int(6, default: 0)
            )
            guard [cut.top, cut.left, cut.bottom, cut.right].allSatisfy({
                (0...NCNNImporter.maximumChannels).contains($0)
            }) else { throw malformed(layer, "negative crop offsets") }
        }
        if cut == (0, 0, 0, 0) { return x[0] }
        return graph.add(layer.name, .crop(top: cut.top, left: cut.left, bottom: cut.bottom, right: cut.right), x)
    }
}
