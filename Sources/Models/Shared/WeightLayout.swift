import Engine
import Kernels
import Tensor

/// Weight re-orderings the importers share: ncnn and ONNX both hold convolution weights as `[out][in][kh][kw]`,
/// the engine as HWIO `[kh][kw][in][out]`.
enum WeightLayout {
    /// HWIO weights of a convolution whose weight `(o, i, ky, kx)` is `weight(o, i, ky, kx)`.
    static func hwio(
        outputs: Int, inputs: Int, kernelHeight: Int, kernelWidth: Int, _ weight: (Int, Int, Int, Int) -> Float
    ) -> [Float] {
        var hwio = [Float](repeating: 0, count: kernelHeight * kernelWidth * inputs * outputs)
        for o in 0..<outputs {
            for i in 0..<inputs {
                for ky in 0..<kernelHeight {
                    for kx in 0..<kernelWidth {
                        hwio[((ky * kernelWidth + kx) * inputs + i) * outputs + o] = weight(o, i, ky, kx)
                    }
                }
            }
        }
        return hwio
    }

    /// HWIO weights of `[out][in][kh][kw]` values stored in that order.
    static func hwio(oihw raw: [Float], outputs: Int, inputs: Int, kernelHeight: Int, kernelWidth: Int) -> [Float] {
        hwio(outputs: outputs, inputs: inputs, kernelHeight: kernelHeight, kernelWidth: kernelWidth) { o, i, ky, kx in
            raw[((o * inputs + i) * kernelHeight + ky) * kernelWidth + kx]
        }
    }

    /// A transposed convolution (stride `s`, weight `(o, i, ky, kx)` from `weight`) as one stride-1 convolution of
    /// s·s·out channels over the input padded by ⌈k/s⌉ − 1 on every side, to be interleaved by DepthToSpace(s).
    /// Phase (ry, rx) of output pixel (s·qy + ry, s·qx + rx) sums input (qy − my, qx − mx) times weight
    /// (ry + s·my, rx + s·mx): a convolution whose tap (jy, jx) is m = K − 1 − j. The interleaved map is
    /// s·(n + K − 1) long: `extraBottom`/`extraRight` more than the uncut (n − 1)·s + k.
    static func transposedConvolutionPhases(
        outputs: Int, inputs: Int, kernelHeight: Int, kernelWidth: Int, stride s: Int,
        _ weight: (Int, Int, Int, Int) -> Float
    ) -> (geometry: ConvolutionGeometry, weights: [Float], extraBottom: Int, extraRight: Int) {
        let kh = (kernelHeight + s - 1) / s
        let kw = (kernelWidth + s - 1) / s
        let phases = s * s * outputs
        var hwio = [Float](repeating: 0, count: kh * kw * inputs * phases)
        for o in 0..<outputs {
            for i in 0..<inputs {
                for jy in 0..<kh {
                    for jx in 0..<kw {
                        for ry in 0..<s {
                            for rx in 0..<s {
                                let ky = ry + s * (kh - 1 - jy)
                                let kx = rx + s * (kw - 1 - jx)
                                guard ky < kernelHeight, kx < kernelWidth else { continue }
                                // DepthToSpace's channel order: (ry·s + rx)·out + o (whole runs of channels move).
                                hwio[((jy * kw + jx) * inputs + i) * phases + (ry * s + rx) * outputs + o] =
                                    weight(o, i, ky, kx)
                            }
                        }
                    }
                }
            }
        }
        let geometry = ConvolutionGeometry(
            kernelHeight: kh, kernelWidth: kw, inputChannels: inputs, outputChannels: phases, padTop: kh - 1,
            padLeft: kw - 1, padBottom: kh - 1, padRight: kw - 1)
        return (geometry, hwio, s * kh - kernelHeight, s * kw - kernelWidth)
    }

    /// A stride-s convolution with an s × s kernel and no padding as the 1 × 1 convolution that follows
    /// SpaceToDepth(s): folded channel (ky·s + kx)·C + i.
    static func spaceToDepthPointwise(outputs: Int, inputs: Int, stride s: Int, _ weight: (Int, Int, Int, Int) -> Float)
        -> [Float]
    {
        hwio(outputs: outputs, inputs: inputs, kernelHeight: s, kernelWidth: s, weight)
    }
}

extension Graph {
    /// Adds a convolution of HWIO `weights` (held by a constant node `name/weights`) on `input`, with its bias and
    /// activation as the epilogue; returns the convolution's node.
    mutating func addConvolution(
        _ name: String, input: NodeID, geometry: ConvolutionGeometry, weights: [Float], bias: [Float]?,
        activation: Activation = .none
    ) -> NodeID {
        let shape = [geometry.kernelHeight, geometry.kernelWidth, geometry.inputChannels, geometry.outputChannels]
        let weightNode = add(name + "/weights", .constant(Tensor(shape: shape, scalars: weights)))
        return add(name, .convolution(geometry, ConvolutionEpilogue(bias: bias, activation: activation)), [input, weightNode])
    }
}
