import CMatrixKernels
import Tensor

/// A convolution in bfloat16: weights rounded and packed once, at model load, as AMX B tiles (blocks of 16 output
/// channels × 32 input channels per tap); each call rounds the NHWC input into a zero-padded bfloat16 copy and runs
/// the tile (or dot-product) kernel, with the epilogue applied to the float sums.
///
/// Input NHWC `[1, H, W, inputChannels]`, output NHWC `geometry.outputShape(height:width:)`. The only difference
/// from `ReferenceKernels.convolution` on operands rounded to bfloat16 is the order of the float additions. Each output
/// value is summed by one thread in a fixed order, so results do not depend on the thread count.
package final class BFloat16Convolution: InPlaceResidualConvolution {
    /// The convolution's kernel size, channel counts and padding.
    package let geometry: ConvolutionGeometry
    /// What is done to the sums before they are stored (bias, activation, scale, residual).
    package let epilogue: ConvolutionEpilogue
    /// The bfloat16 instructions the kernel runs on (AMX tiles or AVX-512 dot products).
    package let hardware: BFloat16Hardware
    let packedWeights: [UInt16]
    /// Channels per padded input pixel: the input channels rounded up to 32 (one AMX tile row).
    let channelStride: Int
    let vectorEpilogue: VectorEpilogue

    /// Pixels the kernels may read past the padded input (a partial block of 16 still loads whole tiles).
    static let slackPixels = 32

    /// The C stage's activation code for a `VectorEpilogue` code: per-channel slopes are its PReLU (3), swish its 4.
    static func stageActivation(_ code: Int) -> Int32 {
        switch code {
        case 2: 3
        case 3: 4
        default: Int32(code)
        }
    }

    /// Whether bfloat16 pays for this convolution: tiles of 32 input and 16 output channels must be mostly filled.
    package static func supports(_ geometry: ConvolutionGeometry) -> Bool {
        geometry.inputChannels >= 16 && geometry.outputChannels >= 16
    }

    /// Rounds and packs HWIO `weights` for `geometry`. `hardware` must be in `BFloat16Hardware.available`.
    package init(
        weights: Tensor, geometry: ConvolutionGeometry, epilogue: ConvolutionEpilogue,
        hardware: BFloat16Hardware
    ) {
        let g = geometry
        precondition(weights.shape == [g.kernelHeight, g.kernelWidth, g.inputChannels, g.outputChannels])
        precondition(BFloat16Hardware.available.contains(hardware), "\(hardware) bfloat16 is not available here")
        self.geometry = geometry
        self.epilogue = epilogue
        self.hardware = hardware
        let taps = Int32(g.kernelHeight * g.kernelWidth)
        let count = superres_bf16_packed_weight_count(taps, Int32(g.inputChannels), Int32(g.outputChannels))
        packedWeights = [UInt16](unsafeUninitializedCapacity: count) { buffer, initialized in
            weights.scalars.withUnsafeBufferPointer { source in
                superres_bf16_pack_weights(
                    source.baseAddress!, taps, Int32(g.inputChannels), Int32(g.outputChannels), buffer.baseAddress!)
            }
            initialized = count
        }
        channelStride = (g.inputChannels + 31) / 32 * 32
        vectorEpilogue = VectorEpilogue(epilogue, outputChannels: g.outputChannels)
    }

    /// The bytes of the padded bfloat16 input for an input of `height × width`, slack included.
    func paddedInputBytes(height: Int, width: Int) -> Int {
        let g = geometry
        let pixels = (height + g.padTop + g.padBottom) * (width + g.padLeft + g.padRight) + Self.slackPixels
        return pixels * channelStride * MemoryLayout<UInt16>.stride
    }

    /// The work of `run` (see `InPlaceResidualConvolution`): the padded input is built in a buffer borrowed from the
    /// convolutions' scratch arena (shared with the Winograd kernels), so the layers of a network reuse one buffer.
    package func convolve(
        input: UnsafeBufferPointer<Float>, height: Int, width: Int, outputShape: FeatureMapShape,
        output: UnsafeMutableBufferPointer<Float>, residual: UnsafeBufferPointer<Float>?, pool: ComputePool
    ) {
        let bytes = paddedInputBytes(height: height, width: width)
        guard epilogue.residualGate != nil, let residual else {
            ConvolutionScratchArena.shared.withBuffer(bytes: bytes) { scratch in
                convolve(
                    input: input, height: height, width: width, outputShape: outputShape, output: output,
                    residual: residual,
                    padded: scratch.bindMemory(to: UInt16.self, capacity: bytes / MemoryLayout<UInt16>.stride),
                    pool: pool)
            }
            return
        }
        // SPAN's gate has no C epilogue: the sums are stored, then gated with their residual here (kept aside first
        // when it is the output's own buffer), the same float steps as the fp32 kernels' epilogue.
        let kept = residual.baseAddress == UnsafePointer(output.baseAddress) ? Array(residual) : nil
        ConvolutionScratchArena.shared.withBuffer(bytes: bytes) { scratch in
            convolve(
                input: input, height: height, width: width, outputShape: outputShape, output: output, residual: nil,
                padded: scratch.bindMemory(to: UInt16.self, capacity: bytes / MemoryLayout<UInt16>.stride), pool: pool)
        }
        vectorEpilogue.withValues { values in
            if let kept {
                kept.withUnsafeBufferPointer { Self.gate(output, residual: $0, by: values, pool: pool) }
            } else {
                Self.gate(output, residual: residual, by: values, pool: pool)
            }
        }
    }

    /// The epilogue's residual step (`EpilogueValues.combine`) over finished sums, in place, 16 values at a time,
    /// spread over the pool.
    private static func gate(
        _ output: UnsafeMutableBufferPointer<Float>, residual: UnsafeBufferPointer<Float>, by values: EpilogueValues,
        pool: ComputePool
    ) {
        let lanes = SIMD16<Float>.scalarCount
        let vectors = (output.count + lanes - 1) / lanes
        let chunk = 4096
        pool.parallelFor((vectors + chunk - 1) / chunk) { part in
            for vector in part * chunk..<min(vectors, (part + 1) * chunk) {
                let start = vector * lanes
                let count = min(lanes, output.count - start)
                let target = output.baseAddress! + start
                let source = residual.baseAddress! + start
                if count == lanes {
                    storeVector(values.combine(loadVector(target), residual: loadVector(source)), target)
                } else {
                    let gated = values.combine(
                        partialVector(target, count: count), residual: partialVector(source, count: count))
                    storeChannels(gated, target, count: count)
                }
            }
        }
    }

    /// Pads and rounds the input into `padded`, then runs the kernel of `hardware` over pairs of output rows.
    private func convolve(
        input: UnsafeBufferPointer<Float>, height: Int, width: Int, outputShape outShape: FeatureMapShape,
        output: UnsafeMutableBufferPointer<Float>, residual: UnsafeBufferPointer<Float>?,
        padded: UnsafeMutablePointer<UInt16>, pool: ComputePool
    ) {
        let g = geometry
        let paddedHeight = height + g.padTop + g.padBottom
        let paddedWidth = width + g.padLeft + g.padRight
        // The slack is read but never used: zeroed so that no stale bits (NaNs) enter the tiles.
        let slackStart = paddedHeight * paddedWidth * channelStride
        (padded + slackStart).initialize(repeating: 0, count: Self.slackPixels * channelStride)
        let rowChunks = min(paddedHeight, pool.threadCount * 4)
        pool.parallelFor(rowChunks) { chunk in
            superres_bf16_pad_rows(
                input.baseAddress!, Int32(height), Int32(width), Int32(g.inputChannels), Int32(g.padTop),
                Int32(g.padLeft), Int32(paddedWidth), Int32(channelStride), padded,
                Int32(chunk * paddedHeight / rowChunks), Int32((chunk + 1) * paddedHeight / rowChunks))
        }
        let hardware = hardware
        packedWeights.withUnsafeBufferPointer { weights in
            let paddedBias = vectorEpilogue.paddedBias ?? []
            paddedBias.withUnsafeBufferPointer { bias in
                vectorEpilogue.paddedSlopes.withUnsafeBufferPointer { slopes in
                    var stage = superres_epilogue(
                        bias: vectorEpilogue.paddedBias == nil ? nil : bias.baseAddress,
                        activation: Self.stageActivation(vectorEpilogue.activation),
                        slope: 0, slopes: slopes.baseAddress, has_scale: vectorEpilogue.scale == nil ? 0 : 1,
                        scale: vectorEpilogue.scale ?? 1,
                        residual: epilogue.addsResidual ? residual?.baseAddress : nil)
                    var convolution = superres_bf16_convolution(
                        padded: padded, padded_width: Int32(paddedWidth), channel_stride: Int32(channelStride),
                        weights: weights.baseAddress, kernel_height: Int32(g.kernelHeight),
                        kernel_width: Int32(g.kernelWidth), output_channels: Int32(g.outputChannels),
                        output: output.baseAddress, output_width: Int32(outShape.width))
                    // Pairs of output rows: the AMX kernel's blocks are 16 pixels of two rows.
                    let pairs = (outShape.height + 1) / 2
                    withUnsafePointer(to: &convolution) { convolutionPointer in
                        withUnsafePointer(to: &stage) { stagePointer in
                            pool.parallelFor(pairs) { pair in
                                let begin = Int32(pair * 2), end = Int32(min(pair * 2 + 2, outShape.height))
                                switch hardware {
                                case .amx:
                                    superres_bf16_convolve_rows_amx(convolutionPointer, stagePointer, begin, end)
                                case .avx512:
                                    superres_bf16_convolve_rows_avx512(convolutionPointer, stagePointer, begin, end)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension ReferenceKernels {
    /// Rounds `value` to the nearest bfloat16 (ties to even), as a float: the operand rounding of `Precision.bf16`.
    package static func roundedToBFloat16(_ value: Float) -> Float {
        guard !value.isNaN else { return value }
        let bits = value.bitPattern
        let rounded = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000
        return Float(bitPattern: rounded)
    }
}
