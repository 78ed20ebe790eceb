import Foundation

/// exiftool (Debian's libimage-exiftool-perl): the independent reader the tests check superres's metadata with.
package enum ExifTool {
    /// Where exiftool is, from PATH.
    package static var path: String? {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        return folders.map { "\($0)/exiftool" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Says what to install when exiftool is missing.
    package static let missingMessage =
        "exiftool is missing: run scripts/install-deps (apt-get install libimage-exiftool-perl)"

    /// The Adobe RGB (1998) compatible profile of Debian's colord-data, a real profile for the tests.
    package static let adobeRGBProfile = "/usr/share/color/icc/colord/AdobeRGB1998.icc"

    /// Says what to install when the profile is missing.
    package static let profileMissingMessage =
        "\(adobeRGBProfile) is missing: run scripts/install-deps (apt-get install colord-data)"

    /// Runs exiftool with `arguments`; its standard output, or an error with its standard error.
    @discardableResult
    package static func run(_ arguments: [String]) throws -> Data {
        guard let path else { throw Failure(message: missingMessage) }
        let result = try CommandRunner.runProgram(URL(fileURLWithPath: path), arguments)
        guard result.status == 0 else {
            throw Failure(message: "exiftool \(arguments.joined(separator: " ")): \(result.standardError)")
        }
        return result.outputBytes
    }

    /// Every tag exiftool reads in the file, by "Group:Name" (family 1 groups, numeric values: `-j -n -G1 -a`).
    package static func tags(_ file: String) throws -> [String: String] {
        let data = try run(["-j", "-n", "-G1", "-a", "-q", "-q", file])
        guard let list = try JSONSerialization.jsonObject(with: data) as? [[String: Any]], let tags = list.first else {
            throw Failure(message: "exiftool gave no JSON for \(file)")
        }
        return tags.mapValues { "\($0)" }
    }

    /// The bytes of a binary tag (`-b -TAG`), e.g. ICC_Profile.
    package static func binary(_ tag: String, of file: String) throws -> [UInt8] {
        [UInt8](try run(["-b", "-\(tag)", file]))
    }

    /// What went wrong running exiftool.
    package struct Failure: Error, CustomStringConvertible {
        package let message: String
        package var description: String { message }
    }
}
