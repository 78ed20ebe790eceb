import Foundation
import Imaging
import TestSupport
import Testing

@Suite struct CodecFileTests {
    /// A fresh empty folder, removed after `body`.
    func withFolder(_ body: (String) throws -> Void) throws {
        let folder = TemporaryFolder("superres-codec")
        try body(folder.path)
    }

    func contents(of folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    }

    @Test func writeThenReadEveryFormat() throws {
        try withFolder { folder in
            let image = CodecSamples.image(width: 20, height: 12, layout: .rgb, noise: 0)
            for name in ["a.png", "b.JPG", "c.jpeg", "d.webp"] {
                let path = folder + "/" + name
                try ImageFile.write(image, to: path, quality: 100)
                let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
                let format = ImageFormat(fileExtension: (name as NSString).pathExtension)
                #expect(ImageFormat(sniffing: bytes) == format)
                let back = try ImageFile.read(path)
                #expect(back.width == 20 && back.height == 12)
                if format != .jpeg { #expect(back == image) }
            }
            let listing = try contents(of: folder)
            #expect(listing == ["a.png", "b.JPG", "c.jpeg", "d.webp"])
        }
    }

    @Test func explicitFormatOverridesTheName() throws {
        try withFolder { folder in
            let path = folder + "/picture.data"
            try ImageFile.write(CodecSamples.image(width: 3, height: 3, layout: .grey), to: path, format: .webp)
            #expect(ImageFormat(sniffing: Array(try Data(contentsOf: URL(fileURLWithPath: path)))) == .webp)
        }
    }

    @Test func unknownExtensionIsRefusedAndWritesNothing() throws {
        try withFolder { folder in
            for name in ["picture.gif", "picture", ".png"] {
                let error = CodecSamples.expectError {
                    try ImageFile.write(CodecSamples.image(width: 3, height: 3, layout: .rgb), to: folder + "/" + name)
                }
                #expect(error?.code == .unsupportedFormat, "\(name)")
                #expect(error?.source == folder + "/" + name)
            }
            let listing = try contents(of: folder)
            #expect(listing.isEmpty)
        }
    }

    @Test func encodeErrorsNameTheDestination() throws {
        try withFolder { folder in
            let path = folder + "/bad.jpg"
            let error = CodecSamples.expectError {
                try ImageFile.write(CodecSamples.image(width: 3, height: 3, layout: .rgb), to: path, quality: 0)
            }
            #expect(error?.code == .encodeFailed)
            #expect(error?.source == path)
            let listing = try contents(of: folder)
            #expect(listing.isEmpty)
        }
    }

    @Test func replacesAnExistingFileAndLeavesNoTemporaries() throws {
        try withFolder { folder in
            let path = folder + "/out.png"
            try ImageFile.writeAtomically(Array("old".utf8), to: path)
            let image = CodecSamples.image(width: 5, height: 4, layout: .rgba)
            try ImageFile.write(image, to: path)
            #expect(try ImageFile.read(path) == image)
            let listing = try contents(of: folder)
            #expect(listing == ["out.png"])
        }
    }

    @Test func failedWriteLeavesNothingBehind() throws {
        try withFolder { folder in
            // The destination is an existing folder: rename fails after the temporary file was written.
            let target = folder + "/taken.png"
            try FileManager.default.createDirectory(atPath: target + "/inner", withIntermediateDirectories: true)
            let error = CodecSamples.expectError { try ImageFile.writeAtomically([1, 2, 3], to: target) }
            #expect(error?.code == .writeFailed)
            #expect(error?.source == target)
            let listing = try contents(of: folder)
            #expect(listing == ["taken.png"])

            let missing = folder + "/no/such/folder/out.png"
            let missingError = CodecSamples.expectError { try ImageFile.writeAtomically([1, 2, 3], to: missing) }
            #expect(missingError?.code == .writeFailed)
            #expect(missingError?.message == "cannot create a file in \(folder)/no/such/folder: No such file or directory")
        }
    }

    @Test func unreadableFilesNameThePath() throws {
        try withFolder { folder in
            let missing = folder + "/missing.png"
            let error = CodecSamples.expectError { _ = try ImageFile.read(missing) }
            #expect(error?.code == .unreadable)
            #expect(error?.source == missing)
            #expect(error?.description.hasPrefix(missing + ": ") == true)
            #expect(error?.message.contains("No such file") == true)

            let folderError = CodecSamples.expectError { _ = try ImageFile.read(folder) }
            #expect(folderError?.code == .unreadable)

            let empty = folder + "/empty.png"
            try ImageFile.writeAtomically([], to: empty)
            let emptyError = CodecSamples.expectError { _ = try ImageFile.read(empty) }
            #expect(emptyError?.code == .truncated)
            #expect(emptyError?.source == empty)
        }
    }

    @Test func outputLimitsCheckPixelsAndEachFormatsLargestSide() throws {
        let limits = OutputLimits(maxPixels: 1_000_000)
        try limits.check(width: 250, height: 250, scale: 4, format: .png, source: "a")  // exactly 1 000 000
        func refused(_ width: Int, _ height: Int, _ scale: Int, _ format: ImageFormat) -> ImagingError? {
            CodecSamples.expectError { try limits.check(width: width, height: height, scale: scale, format: format, source: "in.png") }
        }
        #expect(refused(251, 250, 4, .png)?.code == .tooLarge)
        #expect(refused(Int.max / 2, 3, 4, .png)?.message.contains("1000000 output pixels") == true)
        let wide = OutputLimits(maxPixels: .max)
        try wide.check(width: 5461, height: 1, scale: 3, format: .webp, source: "a")  // 16383
        let webp = CodecSamples.expectError { try wide.check(width: 5462, height: 1, scale: 3, format: .webp, source: "a") }
        #expect(webp?.code == .tooLarge && webp?.message.contains("16383") == true)
        let jpeg = CodecSamples.expectError { try wide.check(width: 1, height: 21_834, scale: 3, format: .jpeg, source: "a") }
        #expect(jpeg?.message.contains("65500") == true)
        try wide.check(width: 1, height: 21_834, scale: 3, format: .png, source: "a")
    }
}
