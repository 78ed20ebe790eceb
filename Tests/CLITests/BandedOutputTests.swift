import Foundation
import Imaging
import TestSupport
import Testing

/// `superres upscale` on results too large for its memory budget: written a band at a time, the same picture, a dry
/// run that says so, and Ctrl-C that leaves nothing behind.
@Suite(.enabled(if: CommandRunner.isAvailable, "the superres binary was not built"))
struct BandedOutputTests {
    static let model = SharedData.path("models/opencv/FSRCNN_x4.pb")

    /// A `width × height` RGB picture with detail everywhere.
    static func writePicture(_ path: String, width: Int, height: Int) throws {
        var samples = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 { samples[(y * width + x) * 3 + c] = UInt8(truncatingIfNeeded: x * (c + 2) ^ y * 3) }
            }
        }
        try ImageFile.write(PixelImage(width: width, height: height, layout: .rgb, uint8: samples), to: path)
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func aResultOverTheBudgetIsWrittenInBandsAsTheSamePicture() throws {
        let folder = TemporaryFolder()
        let input = folder.appending("in.png")
        try Self.writePicture(input, width: 150, height: 110)
        // The same tiles both ways (an automatic layout capped for bands may move Winograd's grid by a tile).
        let common = ["upscale", input, "--model", Self.model, "-v", "--tile", "48"]
        let whole = try CommandRunner.run(common + ["-o", folder.appending("whole.png")])
        let banded = try CommandRunner.run(common + ["-o", folder.appending("banded.png"), "--max-memory-mb", "1"])
        #expect(whole.status == 0 && banded.status == 0, "\(whole.standardError) \(banded.standardError)")
        #expect(!whole.standardError.contains("written in bands"), "\(whole.standardError)")
        #expect(banded.standardError.contains("written in bands"), "\(banded.standardError)")
        #expect(try ImageFile.read(folder.appending("banded.png")) == ImageFile.read(folder.appending("whole.png")))
        // WebP is written whole only: over the budget it is a clear error, not a result past the budget.
        let webP = try CommandRunner.run(
            ["upscale", input, "--model", Self.model, "-o", folder.appending("out.webp"), "--max-memory-mb", "1"])
        #expect(webP.status == 1 && webP.standardError.contains("choose PNG or JPEG"), "\(webP.standardError)")
        #expect(webP.standardError.split(separator: "\n").count == 1, "\(webP.standardError)")
        #expect(folder.contents() == ["banded.png", "in.png", "whole.png"])
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func aDryRunSaysWhatWouldHappenAndWritesNothing() throws {
        let folder = TemporaryFolder()
        let input = folder.appending("in.png")
        try Self.writePicture(input, width: 150, height: 110)
        let output = folder.appending("out.png")
        let banded = try CommandRunner.run(
            ["upscale", input, "--model", Self.model, "-o", output, "--dry-run", "--max-memory-mb", "1"])
        #expect(banded.status == 0, "\(banded.standardError)")
        #expect(banded.standardOutput.contains("150×110 to 600×440 PNG"), "\(banded.standardOutput)")
        #expect(banded.standardOutput.contains("written in bands"), "\(banded.standardOutput)")
        #expect(banded.standardOutput.contains("read from its file a band at a time"), "\(banded.standardOutput)")
        let whole = try CommandRunner.run(["upscale", input, "--model", Self.model, "-o", output, "--dry-run"])
        #expect(whole.standardOutput.contains("made whole"), "\(whole.standardOutput)")
        let refused = try CommandRunner.run(
            ["upscale", input, "--model", Self.model, "-o", output, "--dry-run", "--max-output-pixels", "1000"])
        #expect(refused.status == 1 && refused.standardError.contains("in.png"), "\(refused.standardError)")
        #expect(folder.contents() == ["in.png"])
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func jpegAndTIFFInputsReadInBandsGiveTheWholePicturesResult() throws {
        let folder = TemporaryFolder()
        let png = folder.appending("in.png")
        try Self.writePicture(png, width: 90, height: 170)
        let picture = try ImageFile.read(png)
        for format in [ImageFormat.jpeg, .tiff] {
            let input = folder.appending("in.\(format.fileExtension)")
            try ImageFile.write(picture, to: input, format: format)
            let common = ["upscale", input, "--model", Self.model, "--tile", "32"]
            let whole = try CommandRunner.run(common + ["-o", folder.appending("whole.png")])
            let banded = try CommandRunner.run(
                common + ["-o", folder.appending("banded.png"), "--max-memory-mb", "1", "-v"])
            #expect(whole.status == 0 && banded.status == 0, "\(whole.standardError) \(banded.standardError)")
            #expect(banded.standardError.contains("written in bands"), "\(banded.standardError)")
            #expect(
                try ImageFile.read(folder.appending("banded.png")) == ImageFile.read(folder.appending("whole.png")),
                "\(format)")
        }
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func anInputCutShortWhileReadInBandsLeavesNoFile() throws {
        let folder = TemporaryFolder()
        let input = folder.appending("in.png")
        try Self.writePicture(input, width: 120, height: 400)
        let bytes = try ImageFile.readBytes(input)
        try Data(bytes[0..<(bytes.count / 2)]).write(to: URL(fileURLWithPath: input))
        let result = try CommandRunner.run(
            ["upscale", input, "--model", Self.model, "-o", folder.appending("out.png"), "--max-memory-mb", "1"])
        #expect(result.status == 1, "\(result.standardError)")
        #expect(result.standardError.contains("in.png") && result.standardError.contains("truncated"), "\(result.standardError)")
        #expect(folder.contents() == ["in.png"])
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func controlCStopsWithStatus130AndLeavesNoFile() throws {
        let folder = TemporaryFolder()
        let input = folder.appending("in.png")
        // About 52 million output pixels in small tiles (seconds of work): interrupted right after it starts.
        try Self.writePicture(input, width: 1800, height: 1800)
        let arguments = [
            "upscale", input, "--model", Self.model, "-o", folder.appending("out.png"), "--max-memory-mb", "1",
            "--tile", "64",
        ]
        var sawPartialFile = false
        let result = try CommandRunner.run(arguments) { process in
            // Once the banded output's temporary file exists, the upscale is under way: interrupt it.
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline, process.isRunning {
                if folder.contents().contains(where: { $0.hasPrefix(".out.png.tmp-") }) {
                    sawPartialFile = true
                    process.interrupt()
                    return
                }
                usleep(20_000)
            }
        }
        #expect(sawPartialFile)
        #expect(result.status == 130, "\(result.standardError)")
        #expect(result.standardError.contains("interrupted"), "\(result.standardError)")
        #expect(folder.contents() == ["in.png"])
    }
}
