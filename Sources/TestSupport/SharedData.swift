import Foundation

/// Locates the read-only `../shared` folder (models, datasets, OpenCV references) beside the checkout.
package enum SharedData {
    /// The package root (the folder holding Package.swift).
    package static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        // Sources/TestSupport/SharedData.swift → package root
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    /// `../shared`, or `$SUPERRES_SHARED` when set.
    package static let root: URL = {
        if let override = ProcessInfo.processInfo.environment["SUPERRES_SHARED"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }()

    /// Whether the shared folder is present.
    package static var isAvailable: Bool {
        FileManager.default.fileExists(atPath: root.appendingPathComponent("README.md").path)
    }

    /// The message tests print when they skip for lack of the shared folder.
    package static let missingMessage =
        "../shared (models, datasets, OpenCV references) is absent: set SUPERRES_SHARED or place it beside the checkout"

    /// A path inside the shared folder.
    package static func path(_ relative: String) -> String {
        root.appendingPathComponent(relative).path
    }
}

/// A small, fast, seeded random generator (SplitMix64) so random tests are reproducible from their seed.
package struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    package init(seed: UInt64) { state = seed }

    /// The next 64 random bits (one SplitMix64 step).
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `count` floats uniform in `range`.
    package mutating func floats(_ count: Int, in range: ClosedRange<Float> = -1...1) -> [Float] {
        (0..<count).map { _ in Float.random(in: range, using: &self) }
    }
}
