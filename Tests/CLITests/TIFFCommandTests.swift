import Foundation
import Imaging
import TestSupport
import Testing

/// `superres upscale` on TIFF scans: 16 bits in, 16 bits out; the first page of several, said on stderr.
@Suite(.enabled(if: CommandRunner.isAvailable, "the superres binary was not built"))
struct TIFFCommandTests {
    static let model = SharedData.path("models/opencv/FSRCNN_x2.pb")

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func sixteenBitTIFFGivesSixteenBitTIFF() throws {
        let folder = TemporaryFolder()
        let input = folder.appending("scan.tif")
        let samples = (0..<(30 * 20 * 3)).map { UInt16(truncatingIfNeeded: $0 &* 977) }
        try ImageFile.write(PixelImage(width: 30, height: 20, layout: .rgb, uint16: samples), to: input)
        for compression in ["lzw", "deflate", "none"] {
            let output = folder.appending("big-\(compression).tiff")
            let run = try CommandRunner.run(
                ["upscale", input, "--model", Self.model, "-o", output, "--tiff-compression", compression])
            #expect(run.status == 0, "\(run.standardError)")
            let result = try ImageFile.read(output)
            #expect(result.width == 60 && result.height == 40 && result.bitDepth == 16 && result.layout == .rgb)
        }
        // A PNG input to --format tif.
        let png = folder.appending("in.png")
        try ImageFile.write(PixelImage(width: 30, height: 20, layout: .rgb, uint16: samples), to: png)
        let run = try CommandRunner.run([
            "upscale", png, "--model", Self.model, "-o", folder.appending("out"), "--format", "tif",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(ImageFormat(sniffing: try ImageFile.readBytes(folder.appending("out"))) == .tiff)
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func aThreePageTIFFGivesItsFirstPageAndOneLine() throws {
        let folder = TemporaryFolder()
        let input = folder.appending("pages.tif")
        try Data(
            TIFFBuilder(pages: [
                .init(width: 12, height: 8, value: 200), .init(width: 7, height: 2, value: 20),
                .init(width: 2, height: 2, value: 30),
            ]).build()
        ).write(to: URL(fileURLWithPath: input))
        let output = folder.appending("first.png")
        let run = try CommandRunner.run(["upscale", input, "--model", Self.model, "-o", output])
        #expect(run.status == 0, "\(run.standardError)")
        let lines = run.standardError.split(separator: "\n").filter { $0.contains("pages") }
        #expect(
            lines.count == 1 && lines.first?.contains("pages: 3; only the first is enlarged") == true,
            "\(run.standardError)"
        )
        let result = try ImageFile.read(output)
        #expect(result.width == 24 && result.height == 16 && result.layout == .grey)
        // A broken TIFF is one clear line and exit status 1, nothing written.
        let broken = folder.appending("broken.tif")
        let bytes = try ImageFile.readBytes(input)
        try Data(bytes.prefix(40)).write(to: URL(fileURLWithPath: broken))
        let failed = try CommandRunner.run(["upscale", broken, "--model", Self.model, "-o", folder.appending("x.png")])
        #expect(failed.status == 1 && failed.standardError.contains("broken.tif"), "\(failed.standardError)")
        #expect(!FileManager.default.fileExists(atPath: folder.appending("x.png")))
    }
}
