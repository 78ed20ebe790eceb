import Foundation
import TestSupport
import Testing

@testable import Imaging

/// Decodes the benchmark PNGs of ../shared/datasets and checks them against the sizes its README lists.
@Suite(.enabled(if: SharedData.isAvailable, Comment(rawValue: SharedData.missingMessage)))
struct CodecSharedDataTests {
    @Test(arguments: [
        ("Set5/baby.png", 512, 512), ("Set5/bird.png", 288, 288), ("Set5/butterfly.png", 256, 256),
        ("Set5/head.png", 280, 280), ("Set5/woman.png", 228, 344), ("Set14/zebra.png", 586, 391),
    ])
    func colourImagesDecode(file: String, width: Int, height: Int) throws {
        let path = SharedData.path("datasets/" + file)
        let image = try ImageFile.read(path)
        #expect(image.width == width && image.height == height)
        #expect(image.layout == .rgb && image.bitDepth == 8)
        let header = try ImageCodec.probe(Array(try Data(contentsOf: URL(fileURLWithPath: path))), source: path)
        #expect(header == ImageHeader(format: .png, width: width, height: height))
    }

    @Test func bridgeIsGrey() throws {
        let image = try ImageFile.read(SharedData.path("datasets/Set14/bridge.png"))
        #expect(image.width == 512 && image.height == 512)
        #expect(image.layout == .grey && image.bitDepth == 8)
    }
}
