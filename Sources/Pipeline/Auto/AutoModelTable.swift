// Written by tools/fit_auto_model.py from measurements on T91 only; run it again rather than editing by hand.

/// The numbers of `AutoModelPolicy`, fitted on T91 (91 training pictures, ×3, 19 degradations: clean,
/// JPEG, Gaussian noise, noise then JPEG) by tools/fit_auto_model.py; the fit is reported in docs/auto-model-fit.md.
package enum AutoModelTable {
    /// Blockiness at or below which a picture is taken as never compressed (the 95th percentile on clean T91).
    package static let cleanBlockiness = 1.108
    /// The median blockiness of T91 saved at each JPEG quality, highest blockiness last.
    package static let blockinessQualities: [(blockiness: Double, quality: Double)] = [
        (1.142, 70), (1.212, 60), (1.254, 50), (1.315, 40), (1.414, 30), (1.612, 20), (2.269, 10),
    ]
    /// The noise level that compression alone calls for at each JPEG quality.
    package static let qualityLevels: [(quality: Double, level: Double)] = [
        (10, 20.25), (20, 15.44), (30, 12.44), (40, 12.25), (50, 9.44), (60, 9.25), (70, 8.5), (80, 7.44), (90, 6.31), (95, 5.25), (100, 0),
    ]
    /// The weight of the estimated noise σ in the level.
    package static let noiseWeight = 2.1797
    /// The σ the estimator reads on clean pictures, subtracted before weighting.
    package static let noiseFloor = 0.0000
    /// Levels under this go to the clean model (pictures that are not JPEG files).
    package static let cleanBelow = 7.2500
    /// Levels under this go to the clean model (JPEG files: their tables already say they were compressed).
    package static let cleanBelowJPEG = 0.5000
    /// The levels the policy chooses from.
    package static let levelRange = 0...50
}
