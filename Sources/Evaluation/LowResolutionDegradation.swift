import Foundation
import Imaging

/// What happens to the LR input after the downscale, to measure models on inputs like users' files:
/// `jpeg:40` (saved as a JPEG of quality 40 and read back), `noise:5` (Gaussian noise of σ 5 grey levels, rounded to
/// 8 bits), or several joined by `+` and applied in order (`noise:5+jpeg:95`); `none` leaves it clean.
package struct LowResolutionDegradation: Sendable, Equatable, Codable, CustomStringConvertible {
    /// One step.
    package enum Step: Sendable, Equatable, Codable {
        /// Encoded by libjpeg-turbo at this quality with 4:2:0 chroma (OpenCV's and libjpeg's defaults), decoded again.
        case jpeg(quality: Int)
        /// White Gaussian noise of this standard deviation (0...255 scale) added to every sample, rounded, clipped.
        case noise(sigma: Double)
    }

    /// The steps, in order; empty for a clean LR.
    package let steps: [Step]

    /// The clean LR.
    package static let none = LowResolutionDegradation(steps: [])

    /// A degradation of these steps.
    package init(steps: [Step]) {
        self.steps = steps
    }

    /// Reads `jpeg:Q`, `noise:S`, `A+B…` or `none`.
    package init(parsing text: String) throws(EvaluationError) {
        func refuse(_ why: String) -> EvaluationError {
            EvaluationError(.unsupportedDegradation, source: "--degrade \(text)", message: why)
        }
        if text == "none" || text == "clean" {
            self.steps = []
            return
        }
        var steps: [Step] = []
        for part in text.split(separator: "+", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard pieces.count == 2 else { throw refuse("'\(part)' is not KIND:VALUE (jpeg:40, noise:5)") }
            switch pieces[0] {
            case "jpeg":
                guard let quality = Int(pieces[1]), (1...100).contains(quality) else {
                    throw refuse("JPEG quality '\(pieces[1])' is not a whole number from 1 to 100")
                }
                steps.append(.jpeg(quality: quality))
            case "noise":
                guard let sigma = Double(pieces[1]), sigma.isFinite, sigma >= 0, sigma <= 100 else {
                    throw refuse("noise σ '\(pieces[1])' is not a number from 0 to 100")
                }
                steps.append(.noise(sigma: sigma))
            default:
                throw refuse("unknown degradation '\(pieces[0])' (jpeg:Q, noise:S, joined by +; or none)")
            }
        }
        self.steps = steps
    }

    /// `jpeg:40`, `noise:5+jpeg:95`, `none`.
    package var description: String {
        guard !steps.isEmpty else { return "none" }
        return steps.map { step in
            switch step {
            case .jpeg(let quality): "jpeg:\(quality)"
            case .noise(let sigma):
                sigma == sigma.rounded() && abs(sigma) < 1e9 ? "noise:\(Int(sigma))" : "noise:\(sigma)"
            }
        }.joined(separator: "+")
    }

    /// `lr` after the steps, and the file bytes it was last decoded from (nil when the last step is not a JPEG). The
    /// noise is drawn from a generator seeded by `seed` (the image's name), so every run gives the same pixels.
    package func apply(to lr: PixelImage, seed: String) throws(EvaluationError) -> (image: PixelImage, encoded: [UInt8]?) {
        var image = lr
        var encoded: [UInt8]?
        var random = SplitMix64(seed: Self.fnv1a(seed))
        for step in steps {
            switch step {
            case .jpeg(let quality):
                do {
                    let bytes = try ImageCodec.encode(image, as: .jpeg, quality: quality, jpegChroma: .subsampled)
                    image = try ImageCodec.decode(bytes, source: "\(seed) as JPEG")
                    encoded = bytes
                } catch {
                    throw EvaluationError(.unsupportedImage, source: seed, message: "\(self): \(error)", underlying: error)
                }
            case .noise(let sigma):
                guard case .uint8(let samples) = image.samples else {
                    preconditionFailure("the protocol works on 8-bit images")
                }
                var noisy = samples
                for i in noisy.indices {
                    let value = (Double(samples[i]) + sigma * random.nextGaussian()).rounded()
                    noisy[i] = value <= 0 ? 0 : value >= 255 ? 255 : UInt8(value)
                }
                image = PixelImage(width: image.width, height: image.height, layout: image.layout, uint8: noisy)
                encoded = nil
            }
        }
        return (image, encoded)
    }

    /// 64-bit FNV-1a of the UTF-8 bytes: a stable seed from a name.
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}

/// Steele, Lea & Flood's SplitMix64: a small, fast generator with a fixed sequence per seed (the standard library's
/// generator is seeded from the system and cannot be replayed).
struct SplitMix64 {
    private var state: UInt64
    private var spare: Double?

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1): 53 random bits, never 0.
    mutating func nextUnit() -> Double {
        (Double(next() >> 11) + 0.5) / 9_007_199_254_740_992
    }

    /// Standard normal, by the Box–Muller transform (the second value of each pair kept for the next call).
    mutating func nextGaussian() -> Double {
        if let spare {
            self.spare = nil
            return spare
        }
        let radius = (-2 * Foundation.log(nextUnit())).squareRoot()
        let angle = 2 * Double.pi * nextUnit()
        spare = radius * Foundation.sin(angle)
        return radius * Foundation.cos(angle)
    }
}
