import Tensor

/// The shape of a stride-1, dilation-1 2-D convolution with explicit zero padding.
///
/// Input NHWC `[1, H, W, inputChannels]`, weights HWIO `[kernelHeight, kernelWidth, inputChannels,
/// outputChannels]`, output NHWC `[1, H + padTop + padBottom - kernelHeight + 1, W + padLeft + padRight -
/// kernelWidth + 1, outputChannels]`.
package struct ConvolutionGeometry: Sendable, Hashable {
    /// Rows of the kernel.
    package var kernelHeight: Int
    /// Columns of the kernel.
    package var kernelWidth: Int
    /// Channels of the input feature map.
    package var inputChannels: Int
    /// Channels of the output feature map.
    package var outputChannels: Int
    /// Zero rows added above the input.
    package var padTop: Int
    /// Zero columns added left of the input.
    package var padLeft: Int
    /// Zero rows added below the input.
    package var padBottom: Int
    /// Zero columns added right of the input.
    package var padRight: Int

    /// A geometry with the given kernel size, channel counts and explicit padding on each side.
    package init(
        kernelHeight: Int, kernelWidth: Int, inputChannels: Int, outputChannels: Int,
        padTop: Int, padLeft: Int, padBottom: Int, padRight: Int
    ) {
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.padTop = padTop
        self.padLeft = padLeft
        self.padBottom = padBottom
        self.padRight = padRight
    }

    /// TensorFlow's `SAME` padding for stride 1: `k - 1` pixels in all, the odd one after (4×4 pads 1 before, 2 after).
    package static func same(kernelHeight: Int, kernelWidth: Int, inputChannels: Int, outputChannels: Int)
        -> ConvolutionGeometry
    {
        ConvolutionGeometry(
            kernelHeight: kernelHeight, kernelWidth: kernelWidth,
            inputChannels: inputChannels, outputChannels: outputChannels,
            padTop: (kernelHeight - 1) / 2, padLeft: (kernelWidth - 1) / 2,
            padBottom: kernelHeight / 2, padRight: kernelWidth / 2)
    }

    /// The output feature-map shape for an input of `height × width`.
    package func outputShape(height: Int, width: Int) -> FeatureMapShape {
        FeatureMapShape(
            height: height + padTop + padBottom - kernelHeight + 1,
            width: width + padLeft + padRight - kernelWidth + 1,
            channels: outputChannels)
    }

    /// Checks the caller's buffers of a kernel run on a `height × width` input (wrong sizes are programmer errors)
    /// and returns the output shape; an empty output (an input smaller than the kernel) needs no buffers.
    func checkedOutputShape(
        height: Int, width: Int, inputCount: Int, outputCount: Int, residualCount: Int?, addsResidual: Bool
    ) -> FeatureMapShape {
        let outShape = outputShape(height: height, width: width)
        guard outShape.height > 0, outShape.width > 0 else { return outShape }
        precondition(inputCount >= height * width * inputChannels, "input buffer too small")
        precondition(outputCount >= outShape.elementCount, "output buffer too small")
        precondition(!addsResidual || (residualCount ?? 0) >= outShape.elementCount, "residual missing")
        return outShape
    }

    /// Multiply-adds per output pixel.
    package var multiplyAddsPerPixel: Int { kernelHeight * kernelWidth * inputChannels * outputChannels }
}

/// A per-element activation applied in a convolution's output stage.
package enum Activation: Sendable, Hashable {
    case none
    /// `max(x, 0)`.
    case relu
    /// `x` for `x >= 0`, `slope * x` below.
    case leakyReLU(slope: Float)
    /// Like leaky ReLU with one slope per output channel.
    case prelu(slopes: [Float])
    /// `x · sigmoid(x)`, as ncnn's Swish layer computes it: `x / (1 + e^−x)`.
    case swish

    /// Applies the activation to one value of output channel `channel`.
    @inlinable
    package func apply(_ x: Float, channel: Int) -> Float {
        switch self {
        case .none: x
        case .relu: x < 0 ? 0 : x
        case .leakyReLU(let slope): x < 0 ? x * slope : x
        case .prelu(let slopes): x < 0 ? x * slopes[channel] : x
        case .swish: UnaryOperation.swish.apply(x)
        }
    }
}

/// What a convolution does to its sums before storing them, in this order:
/// `+ bias[c]`, activation, `× scale`, `+ residual` (or, with `residualGate`, SPAN's gate on the residual).
///
/// These are the element-wise tails of the layers of EDSR, FSRCNN, LapSRN and SPAN, fused so that the feature map is
/// written once; each step is the same float operation the unfused graph does, so fusing changes no bits.
package struct ConvolutionEpilogue: Sendable, Hashable {
    /// One value per output channel, or nil.
    package var bias: [Float]?
    /// The activation applied after the bias (`.none` for none).
    package var activation: Activation
    /// A scalar multiplier, or nil.
    package var scale: Float?
    /// Whether a residual tensor of the output's shape is combined last.
    package var addsResidual: Bool
    /// With a residual r: the value v becomes `(v + r) · (sigmoid(v) − residualGate)` (SPAN's attention gate, the
    /// `sigmoidGate` operation) instead of `v + r`; nil for the plain sum.
    package var residualGate: Float?

    /// An epilogue of the given steps (a plain residual sum; set `residualGate` for the gate); the default does
    /// nothing to the sums.
    package init(bias: [Float]? = nil, activation: Activation = .none, scale: Float? = nil, addsResidual: Bool = false) {
        self.bias = bias
        self.activation = activation
        self.scale = scale
        self.addsResidual = addsResidual
    }

    /// This epilogue with SPAN's gate, `(v + r) · (sigmoid(v) − offset)`, as its residual step.
    package func gatingResidual(offset: Float) -> ConvolutionEpilogue {
        var gated = self
        gated.addsResidual = true
        gated.residualGate = offset
        return gated
    }

    /// The last step on one value `value` (already through `apply`) and its residual, as the reference kernels
    /// compute it: the sum, or the gate with Foundation's exp.
    @inlinable
    package func combine(_ value: Float, residual: Float) -> Float {
        guard let residualGate else { return value + residual }
        return (value + residual) * (UnaryOperation.sigmoid.apply(value) - residualGate)
    }

    /// Applies every step but the residual to one sum of output channel `channel`.
    @inlinable
    package func apply(_ sum: Float, channel: Int) -> Float {
        var value = sum
        if let bias { value += bias[channel] }
        value = activation.apply(value, channel: channel)
        if let scale { value *= scale }
        return value
    }
}

/// Errors a kernel reports when its operands do not fit together.
package struct KernelError: Error, CustomStringConvertible, Sendable {
    /// What does not fit, in words.
    package let message: String
    /// An error with `message`.
    package init(_ message: String) { self.message = message }
    /// The error as text: the message alone, with no prefix.
    package var description: String { message }
}
