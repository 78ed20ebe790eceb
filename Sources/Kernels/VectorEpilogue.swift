/// A convolution epilogue laid out for the 16-lane kernels (direct and Winograd): bias and slopes padded to whole
/// blocks of 16 output channels, the activation as a code.
struct VectorEpilogue: Sendable {
    let paddedBias: [Float]?
    let paddedSlopes: [Float]
    /// 0 none, 1 ReLU, 2 per-channel slopes (leaky ReLU, PReLU), 3 swish.
    let activation: Int
    let scale: Float?
    /// `ConvolutionEpilogue.residualGate`.
    let residualGate: Float?

    init(_ epilogue: ConvolutionEpilogue, outputChannels: Int) {
        let lanes = SIMD16<Float>.scalarCount
        let padded = (outputChannels + lanes - 1) / lanes * lanes
        if let given = epilogue.bias {
            precondition(given.count == outputChannels, "bias count")
            paddedBias = given + [Float](repeating: 0, count: padded - given.count)
        } else {
            paddedBias = nil
        }
        switch epilogue.activation {
        case .none:
            activation = 0
            paddedSlopes = [Float](repeating: 0, count: padded)
        case .relu:
            activation = 1
            paddedSlopes = [Float](repeating: 0, count: padded)
        case .prelu(let given):
            precondition(given.count == outputChannels, "PReLU slope count")
            activation = 2
            paddedSlopes = given + [Float](repeating: 0, count: padded - given.count)
        case .leakyReLU(let slope):
            activation = 2
            paddedSlopes = [Float](repeating: slope, count: padded)
        case .swish:
            activation = 3
            paddedSlopes = [Float](repeating: 0, count: padded)
        }
        scale = epilogue.scale
        residualGate = epilogue.residualGate
    }

    /// Calls `body` with raw views of the epilogue, valid during the call.
    func withValues<R>(_ body: (EpilogueValues) -> R) -> R {
        (paddedBias ?? []).withUnsafeBufferPointer { bias in
            paddedSlopes.withUnsafeBufferPointer { slopes in
                body(
                    EpilogueValues(
                        bias: paddedBias == nil ? nil : bias.baseAddress!, activation: activation,
                        slopes: slopes.baseAddress!, scale: scale, residualGate: residualGate))
            }
        }
    }
}

/// The epilogue as raw values, so that storing a result touches no reference-counted storage.
struct EpilogueValues: @unchecked Sendable {
    // @unchecked Sendable: the pointers are read only, during a call that the owner of the memory waits for.
    let bias: UnsafePointer<Float>?
    let activation: Int
    let slopes: UnsafePointer<Float>
    let scale: Float?
    let residualGate: Float?

    /// Bias, activation and scale on the sums of output channels `firstChannel ..< firstChannel + 16`, in the order of
    /// the reference kernel (the residual, if any, is the caller's: it is added last).
    @inline(__always)
    func apply(_ sums: SIMD16<Float>, firstChannel: Int) -> SIMD16<Float> {
        var value = sums
        if let bias { value += UnsafeRawPointer(bias + firstChannel).loadUnaligned(as: SIMD16<Float>.self) }
        if activation == 1 {
            value.replace(with: 0, where: value .< 0)
        } else if activation == 2 {
            let slope = UnsafeRawPointer(slopes + firstChannel).loadUnaligned(as: SIMD16<Float>.self)
            value.replace(with: value * slope, where: value .< 0)
        } else if activation == 3 {
            value = VectorMath.swish(value)
        }
        if let scale { value *= scale }
        return value
    }

    /// The residual step on 16 values (already through `apply`) and their residuals: the sum, or SPAN's gate with the
    /// vectorized sigmoid, as `ElementwiseKernels.sigmoidGate` computes it.
    @inline(__always)
    func combine(_ value: SIMD16<Float>, residual: SIMD16<Float>) -> SIMD16<Float> {
        guard let residualGate else { return value + residual }
        return (value + residual) * (VectorMath.sigmoid(value) - SIMD16<Float>(repeating: residualGate))
    }
}
