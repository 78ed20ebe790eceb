import Foundation

/// Which network an input gets under `--model auto`, and with which noise level.
package enum AutoChoice: Sendable, Equatable, Codable {
    /// The scale's clean model (trained for clean bicubic downscales): the input shows no compression or noise.
    case clean
    /// SRMD with this noise level: the input is compressed or noisy, and SRMD's denoising gains more than it blurs.
    case denoise(level: Int)
}

/// The rule from a `DegradationEstimate` to an `AutoChoice`, with the numbers of `AutoModelTable` (fitted on T91 by
/// tools/fit_auto_model.py, never on the evaluation sets).
///
/// The noise level SRMD needs grows as the JPEG quality falls and as the noise grows; the two add like independent
/// noises: level = √(L(q)² + (w · max(σ − σ₀, 0))²), where L is a piecewise-linear table over the JPEG quality q
/// (the file's own, or the one its blockiness points to), σ the estimated noise, σ₀ the noise the estimator reads on
/// a clean picture and w a weight. Below `AutoModelTable.cleanBelow` the clean model wins; a JPEG file has its own,
/// lower cut (`cleanBelowJPEG`): its tables already say it was compressed, where a PNG's noise estimate alone is
/// unsure (on small textured pictures it reads texture as noise).
package enum AutoModelPolicy {
    /// The noise level the estimate calls for (before the clean cut and rounding).
    package static func level(for estimate: DegradationEstimate) -> Double {
        let compression = AutoModelTable.level(forQuality: estimate.effectiveQuality)
        let sigma = estimate.noiseSigma ?? 0
        let noise = AutoModelTable.noiseWeight * max(sigma - AutoModelTable.noiseFloor, 0)
        return (compression * compression + noise * noise).squareRoot()
    }

    /// The choice for an input with this estimate.
    package static func choose(_ estimate: DegradationEstimate) -> AutoChoice {
        let level = level(for: estimate)
        let cut = estimate.jpegQuality == nil ? AutoModelTable.cleanBelow : AutoModelTable.cleanBelowJPEG
        if level < cut { return .clean }
        let levels = AutoModelTable.levelRange
        return .denoise(level: min(max(Int(level.rounded()), levels.lowerBound), levels.upperBound))
    }

    /// SRMD's noise level for an input when the model is SRMD and `--noise` was not given (`--noise auto`): the
    /// policy's level, or 0 where the policy would take the clean model.
    package static func srmdLevel(for estimate: DegradationEstimate) -> Int {
        switch choose(estimate) {
        case .clean: 0
        case .denoise(let level): level
        }
    }
}

extension AutoModelTable {
    /// Piecewise-linear interpolation through `knots` (sorted by x), held constant beyond the ends.
    static func interpolate(_ x: Double, _ knots: [(x: Double, y: Double)]) -> Double {
        guard let first = knots.first, let last = knots.last else { return 0 }
        if x <= first.x { return first.y }
        if x >= last.x { return last.y }
        for (a, b) in zip(knots, knots.dropFirst()) where x <= b.x {
            let t = (x - a.x) / (b.x - a.x)
            return a.y + t * (b.y - a.y)
        }
        return last.y
    }

    /// The noise level that compression alone at JPEG quality `quality` calls for.
    static func level(forQuality quality: Double) -> Double {
        interpolate(quality, qualityLevels.map { (x: $0.quality, y: $0.level) })
    }

    /// The JPEG quality a picture of this blockiness behaves like; 100 at or below `cleanBlockiness`.
    static func quality(forBlockiness blockiness: Double) -> Double {
        if blockiness <= cleanBlockiness { return 100 }
        let knots = [(x: cleanBlockiness, y: 100.0)] + blockinessQualities.map { (x: $0.blockiness, y: $0.quality) }
        return interpolate(blockiness, knots)
    }
}
