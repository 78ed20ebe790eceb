import Tensor

/// A convolution kernel that runs from and into caller-owned NHWC buffers and may add its residual in place
/// (`y = conv(x) + y`): the Winograd and bfloat16 kernels. The executor writes such a step into its residual's buffer
/// when it is that value's last reader.
package protocol InPlaceResidualConvolution: Sendable {
    /// The convolution's kernel size, channel counts and padding.
    var geometry: ConvolutionGeometry { get }
    /// What is done to the sums before they are stored (bias, activation, scale, residual).
    var epilogue: ConvolutionEpilogue { get }

    /// The work of `run` once it has checked the buffers, for its output of `outputShape` (never empty).
    func convolve(
        input: UnsafeBufferPointer<Float>, height: Int, width: Int, outputShape: FeatureMapShape,
        output: UnsafeMutableBufferPointer<Float>, residual: UnsafeBufferPointer<Float>?, pool: ComputePool)
}

extension InPlaceResidualConvolution {
    /// Runs the convolution from and into caller-owned NHWC buffers (batch one), so an executor can reuse memory.
    ///
    /// `input` holds `height × width × inputChannels` values and must not overlap `output`, which receives
    /// `geometry.outputShape(height:width:)`. `residual` (required iff the epilogue adds one) holds the output's
    /// shape and may be `output` itself, for an in-place `y = conv(x) + y`; otherwise it must not overlap `output`.
    package func run(
        input: UnsafeBufferPointer<Float>, height: Int, width: Int, output: UnsafeMutableBufferPointer<Float>,
        residual: UnsafeBufferPointer<Float>?, pool: ComputePool = .shared
    ) {
        let outShape = geometry.checkedOutputShape(
            height: height, width: width, inputCount: input.count, outputCount: output.count,
            residualCount: residual?.count, addsResidual: epilogue.addsResidual)
        guard outShape.height > 0, outShape.width > 0 else { return }
        convolve(
            input: input, height: height, width: width, outputShape: outShape, output: output, residual: residual,
            pool: pool)
    }

    /// Runs the convolution on an NHWC input; `residual` (output-shaped) is required iff the epilogue adds one.
    package func callAsFunction(_ input: Tensor, residual: Tensor? = nil, pool: ComputePool = .shared) -> Tensor {
        guard let inShape = FeatureMapShape(nhwc: input.shape) else { preconditionFailure("input is not NHWC") }
        precondition(
            inShape.channels == geometry.inputChannels,
            "input has \(inShape.channels) channels, not \(geometry.inputChannels)")
        let outShape = geometry.outputShape(height: inShape.height, width: inShape.width)
        precondition(!epilogue.addsResidual || residual?.shape == outShape.nhwc, "residual shape")
        guard outShape.height > 0, outShape.width > 0 else { return Tensor(shape: outShape.nhwc, repeating: 0) }
        let residualScalars = epilogue.addsResidual ? residual?.scalars ?? [] : []
        // Not zero-filled first: every output value is written exactly once.
        let output = [Float](unsafeUninitializedCapacity: outShape.elementCount) { outputBuffer, initialized in
            input.scalars.withUnsafeBufferPointer { inputBuffer in
                residualScalars.withUnsafeBufferPointer { residualBuffer in
                    run(
                        input: inputBuffer, height: inShape.height, width: inShape.width, output: outputBuffer,
                        residual: epilogue.addsResidual ? residualBuffer : nil, pool: pool)
                }
            }
            initialized = outShape.elementCount
        }
        return Tensor(shape: outShape.nhwc, scalars: output)
    }
}
