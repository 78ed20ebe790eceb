import Foundation

/// lcms2's own command-line calculator, transicc (Debian's liblcms2-utils): the independent reference for superres's
/// colour conversions.
package enum LittleCMS {
    /// Where transicc is, from PATH.
    package static var transicc: String? {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        return folders.map { "\($0)/transicc" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Says what to install when transicc is missing.
    package static let missingMessage = "transicc is missing: run scripts/install-deps (apt-get install liblcms2-utils)"

    /// Ghostscript's CMYK profile (Debian's libgs-common): a real 187 KB profile, three JPEG segments long.
    package static let cmykProfile = "/usr/share/color/icc/ghostscript/default_cmyk.icc"

    /// Converts `values` (one colour per entry: 0...255 per RGB channel, 0...100 per CMYK ink) from the profile at
    /// `profile` to sRGB with transicc (perceptual, no quantisation); the sRGB values, 0...255, unclamped.
    package static func toSRGB(_ values: [[Double]], from profile: String) throws -> [[Double]] {
        guard let transicc else { throw ExifTool.Failure(message: missingMessage) }
        let text = values.map { $0.map { String($0) }.joined(separator: " ") }.joined(separator: "\n") + "\nq\n"
        let result = try CommandRunner.runProgram(
            URL(fileURLWithPath: transicc), ["-i", profile, "-o", "*sRGB", "-t", "0", "-n"], input: Data(text.utf8))
        let lines = result.standardOutput.split(separator: "\n")
        let results = lines.compactMap { line -> [Double]? in
            let numbers = line.split(separator: " ").compactMap { Double($0) }
            return numbers.count == 3 ? numbers : nil
        }
        guard results.count == values.count else {
            throw ExifTool.Failure(message: "transicc gave \(results.count) results for \(values.count) colours")
        }
        return results
    }
}
