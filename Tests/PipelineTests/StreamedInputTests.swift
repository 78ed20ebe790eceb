import Foundation
import Imaging
import Models
import TestSupport
import Testing

@testable import Pipeline

/// A file enlarged while it is decoded a band of rows at a time: the same result as the decoded picture's, with only
/// the rows of a band and its margins held, for every family's way of reading the picture.
@Suite(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
struct StreamedInputTests {
    /// A tall picture (so that many bands pass) in `layout`, from the layout tests' RGB picture.
    static func picture(_ layout: PixelLayout, bitDepth: Int) -> PixelImage {
        BandedUpscaleTests.picture(layout, bitDepth: bitDepth, width: 40, height: 230)
    }

    /// `upscaler`'s result on `image` both ways: decoded whole, and read from its PNG file by rows; also how many
    /// rows the streamed picture held at most and how often it decoded again from the top.
    static func bothWays(
        _ upscaler: Upscaler, _ image: PixelImage, size: PixelSize? = nil
    ) throws -> (whole: PixelImage, streamed: PixelImage, mostHeld: Int, restarts: Int) {
        let folder = TemporaryFolder()
        let path = folder.appending("in.png")
        try ImageFile.write(image, to: path)
        let bytes = try ImageFile.readBytes(path)
        let input = try #require(
            try StreamedInput.examine(
                path: path, bytes: bytes, metadata: ImageMetadata(reading: bytes), source: "in.png",
                limits: DecodeLimits(), colour: ColourPolicy()))
        let rows = PictureRows(streaming: input)
        var bands: [PixelImage] = []
        try upscaler.upscaleBands(
            ImagePlanes(rows), to: size, filter: .default, progress: { _, _ in }, shouldCancel: { false }
        ) { _, band throws(PipelineError) in bands.append(band) }
        let whole = try upscaler.upscale(image, to: size)
        var samples8: [UInt8] = []
        var samples16: [UInt16] = []
        for band in bands {
            switch band.samples {
            case .uint8(let values): samples8 += values
            case .uint16(let values): samples16 += values
            }
        }
        let streamed =
            image.bitDepth == 8
            ? PixelImage(width: whole.width, height: whole.height, layout: whole.layout, uint8: samples8)
            : PixelImage(width: whole.width, height: whole.height, layout: whole.layout, uint16: samples16)
        return (whole, streamed, rows.mostHeld, rows.restarts)
    }

    @Test(
        arguments: ["models/opencv/FSRCNN-small_x2.pb", "models/fixtures/edsr_tiny_x3.pb"],
        [PixelLayout.grey, .rgba]
    )
    func openCVFamiliesReadOnlyTheRowsOfABand(_ model: String, _ layout: PixelLayout) throws {
        let upscaler = Upscaler(
            model: try ModelLoader.load(path: SharedData.path(model)), options: UpscaleOptions(tileSize: 16))
        for bitDepth in [8, 16] {
            let image = Self.picture(layout, bitDepth: bitDepth)
            let run = try Self.bothWays(upscaler, image)
            #expect(run.streamed == run.whole, "\(model) \(layout) \(bitDepth)-bit")
            #expect(run.restarts == 0)
            // Two bands of 16 rows, the network's margins, the cubic's reach and a read step: far from all 230.
            #expect(run.mostHeld <= 2 * 16 + 2 * upscaler.model.tileMargin + 16 + 8, "\(run.mostHeld) rows held")
        }
        // Shrunk to a size between (the alpha and chroma rows follow the resampled output rows).
        let image = Self.picture(layout, bitDepth: 8)
        let s = upscaler.model.scale
        let run = try Self.bothWays(upscaler, image, size: PixelSize(width: 40 * s * 3 / 4, height: 230 * s * 3 / 4))
        #expect(run.streamed == run.whole && run.restarts == 0)
    }

    @Test(arguments: [
        ("realesr-animevideov3-x2", "realesr-animevideov3-x2.param"), ("srmdnf-x2", "srmdnf_x2.param"),
    ])
    func ncnnFamiliesReadOnlyTheRowsOfABand(_ name: String, _ param: String) throws {
        let upscaler = Upscaler(model: try NCNNModelFiles.load(name, param: param), options: UpscaleOptions(tileSize: 24))
        let image = Self.picture(.rgba, bitDepth: 8)
        let run = try Self.bothWays(upscaler, image)
        #expect(run.streamed == run.whole, "\(name)")
        #expect(run.restarts == 0)
        // The padded input's rows of tiles map back to the picture's rows, mirrored or repeated at the edges.
        #expect(run.mostHeld < 24 * 2 + 2 * (upscaler.model.tileMargin + 12) + 16 + 8, "\(run.mostHeld) rows held")
    }

    @Test func aFileCutShortFailsWithTheFilesErrorAndNoResult() throws {
        let folder = TemporaryFolder()
        let path = folder.appending("cut.png")
        // Noise, so that half the file holds libpng's first IDAT reads (8 KB each) for the first rows.
        var state: UInt32 = 12345
        let noise = (0..<(200 * 400 * 3)).map { _ -> UInt8 in
            state = state &* 1_103_515_245 &+ 12345
            return UInt8(truncatingIfNeeded: state >> 16)
        }
        try ImageFile.write(PixelImage(width: 200, height: 400, layout: .rgb, uint8: noise), to: path)
        let bytes = try ImageFile.readBytes(path)
        try Data(bytes[0..<(bytes.count / 2)]).write(to: URL(fileURLWithPath: path))
        let cut = try ImageFile.readBytes(path)
        let input = try #require(
            try StreamedInput.examine(
                path: path, bytes: cut, metadata: ImageMetadata(reading: cut), source: "cut.png",
                limits: DecodeLimits(), colour: ColourPolicy()))
        let upscaler = Upscaler(
            model: try ModelLoader.load(path: SharedData.path("models/opencv/FSRCNN-small_x2.pb")),
            options: UpscaleOptions(tileSize: 16))
        var rowsMade = 0
        do {
            try upscaler.upscaleBands(
                ImagePlanes(PictureRows(streaming: input)), to: nil, filter: .default, progress: { _, _ in },
                shouldCancel: { false }
            ) { _, band throws(PipelineError) in rowsMade += band.height }
            Issue.record("the cut file was enlarged to the end")
        } catch {
            guard case .input(let failure) = error else {
                Issue.record("not the file's error: \(error)")
                return
            }
            #expect(failure.code == .truncated && failure.source == "cut.png", "\(failure)")
        }
        #expect(rowsMade > 0 && rowsMade < 400 * 2, "\(rowsMade) rows made")
    }
}
