import Tensor

/// Plain, obviously correct kernels: the definition every fast kernel is tested against.
package enum ReferenceKernels {
    /// 2-D convolution, NHWC input, HWIO weights, stride 1, zero padding as `geometry` says, then `epilogue`.
    ///
    /// Output NHWC `[1, H + padTop + padBottom - kh + 1, W + padLeft + padRight - kw + 1, outputChannels]`.
    /// Sums run over `ky`, `kx`, then input channel, in that order.
    package static func convolution(
        _ input: Tensor, weights: Tensor, geometry g: ConvolutionGeometry,
        epilogue: ConvolutionEpilogue = ConvolutionEpilogue(), residual: Tensor? = nil
    ) -> Tensor {
        let inShape = FeatureMapShape(nhwc: input.shape)!
        precondition(inShape.channels == g.inputChannels, "input channels")
        precondition(weights.shape == [g.kernelHeight, g.kernelWidth, g.inputChannels, g.outputChannels], "weights")
        let outShape = g.outputShape(height: inShape.height, width: inShape.width)
        precondition(!epilogue.addsResidual || residual?.shape == outShape.nhwc, "residual shape")
        var out = [Float](repeating: 0, count: outShape.elementCount)
        for y in 0..<outShape.height {
            for x in 0..<outShape.width {
                for co in 0..<g.outputChannels {
                    var sum: Float = 0
                    for ky in 0..<g.kernelHeight {
                        let iy = y + ky - g.padTop
                        if iy < 0 || iy >= inShape.height { continue }
                        for kx in 0..<g.kernelWidth {
                            let ix = x + kx - g.padLeft
                            if ix < 0 || ix >= inShape.width { continue }
                            for ci in 0..<g.inputChannels {
                                let a = input.scalars[(iy * inShape.width + ix) * g.inputChannels + ci]
                                let w = weights.scalars[
                                    ((ky * g.kernelWidth + kx) * g.inputChannels + ci) * g.outputChannels + co]
                                sum = sum.addingProduct(a, w)
                            }
                        }
                    }
                    let index = (y * outShape.width + x) * g.outputChannels + co
                    var value = epilogue.apply(sum, channel: co)
                    if epilogue.addsResidual, let residual {
                        value = epilogue.combine(value, residual: residual.scalars[index])
                    }
                    out[index] = value
                }
            }
        }
        return Tensor(shape: outShape.nhwc, scalars: out)
    }
}
