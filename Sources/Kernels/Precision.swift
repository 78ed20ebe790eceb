import CMatrixKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The arithmetic of a network's convolutions.
package enum Precision: String, Sendable, CaseIterable {
    /// 32-bit floats (the default): OpenCV's pixels, bit-stable across runs with the same thread count.
    case fp32
    /// Convolution operands rounded to bfloat16 (8 significant bits), products summed in 32-bit floats, on AMX tiles
    /// or AVX-512 BF16 dot products. Faster where the CPU has them; an error where it has neither.
    case bf16
}

/// The bfloat16 instructions a CPU offers the convolution kernels.
package enum BFloat16Hardware: String, Sendable, CaseIterable {
    /// AMX tile matrix multiplies (`tdpbf16ps`): Intel Sapphire Rapids and later.
    case amx
    /// AVX-512 BF16 dot products (`vdpbf16ps`): AMD Zen 4 and later, Intel Cooper Lake and later.
    case avx512

    /// The environment variable that restricts the paths used: `avx512` (skip AMX) or `none` (as on a CPU without
    /// bfloat16), to compare the paths or check the error elsewhere.
    package static let environmentVariable = "SUPERRES_BF16_HARDWARE"

    /// The fastest bfloat16 path this machine runs (within `SUPERRES_BF16_HARDWARE`), or nil when it has none.
    package static let best: BFloat16Hardware? = {
        let detected: BFloat16Hardware? =
            switch superres_bf16_support() {
            case SUPERRES_BF16_AMX: .amx
            case SUPERRES_BF16_AVX512: .avx512
            default: nil
            }
        switch getenv(environmentVariable).map({ String(cString: $0) }) {
        case "none": return nil
        case "avx512": return detected == nil ? nil : .avx512
        default: return detected
        }
    }()

    /// Every path this process may run (AMX machines run the AVX-512 path too).
    package static var available: [BFloat16Hardware] {
        switch best {
        case .amx: [.amx, .avx512]
        case .avx512: [.avx512]
        case nil: []
        }
    }

    /// Why bfloat16 cannot run here, for error messages.
    package static let unavailableReason =
        "bf16 needs a CPU with AVX-512 BF16 (AMD Zen 4 or later, Intel Cooper Lake or later) or AMX; this one has "
        + "neither (use fp32)"
}
