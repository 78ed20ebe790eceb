import Foundation
import TestSupport
import Testing

@testable import Imaging

/// What goes in comes out, only larger: a real Adobe RGB profile, EXIF (orientation 6, GPS, a thumbnail), XMP and
/// 300 dpi written into PNG, JPEG and WebP inputs by exiftool, and read back from superres's results by exiftool.
@Suite(.enabled(if: CommandRunner.isAvailable, "the superres binary was not built"))
struct MetadataRoundTripTests {
    static let model = SharedData.path("models/opencv/FSRCNN_x2.pb")

    /// Tags that an enlargement changes on purpose; every other EXIF tag must come out as it went in.
    static let changedTags: Set<String> = ["IFD0:Orientation", "ExifIFD:ExifImageWidth", "ExifIFD:ExifImageHeight"]
    /// The IFD0 tags of the EXIF kind (a TIFF's IFD0 also holds its own layout: size, strips, compression).
    static let exifIFD0Tags: Set<String> = [
        "IFD0:Make", "IFD0:Model", "IFD0:Artist", "IFD0:XResolution", "IFD0:YResolution", "IFD0:ResolutionUnit",
    ]

    /// Writes `in.<ext>`: a 24×16 picture (stored sideways: orientation 6 makes it 16×24 upright) carrying the
    /// profile, EXIF with GPS and a thumbnail, XMP and 300 dpi, all written by exiftool.
    static func makeInput(in folder: TemporaryFolder, format: ImageFormat) throws -> String {
        let samples = (0..<(24 * 16 * 3)).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let picture = PixelImage(width: 24, height: 16, layout: .rgb, uint8: samples)
        let path = folder.appending("in.\(format.fileExtension)")
        try ImageFile.write(picture, to: path, format: format)
        let thumbnail = folder.appending("thumbnail.jpg")
        try ImageFile.write(
            PixelImage(width: 6, height: 4, layout: .rgb, uint8: Array(samples.prefix(72))),
            to: thumbnail
        )
        // A TIFF's second directory is a page, not a thumbnail: TIFFs get none.
        let thumbnailArguments = format == .tiff ? [] : ["-ThumbnailImage<=\(thumbnail)"]
        try ExifTool.run(
            [
                "-q", "-overwrite_original", "-icc_profile<=\(ExifTool.adobeRGBProfile)", "-Orientation#=6",
                "-Make=TestCam", "-Model=X1", "-Artist=A. Photographer", "-DateTimeOriginal=2020:01:02 03:04:05",
                "-GPSLatitude=48.8584", "-GPSLatitudeRef=N", "-GPSLongitude=2.2945", "-GPSLongitudeRef=E",
                "-GPSAltitude=35", "-XResolution=300", "-YResolution=300", "-ResolutionUnit=inches",
                "-ExifImageWidth=24", "-ExifImageHeight=16", "-XMP-dc:Title=A test", "-XMP-tiff:Orientation#=6", path,
            ] + thumbnailArguments
        )
        try FileManager.default.removeItem(atPath: thumbnail)
        return path
    }

    /// Fails the test, saying what to install, when exiftool or the Adobe RGB profile is missing.
    static func requireExifToolAndProfile() throws {
        try #require(ExifTool.path != nil, "\(ExifTool.missingMessage)")
        try #require(
            FileManager.default.fileExists(atPath: ExifTool.adobeRGBProfile), "\(ExifTool.profileMissingMessage)")
    }

    @Test(
        .enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"),
        arguments: ImageFormat.allCases
    )
    func everyOutputFormatCarriesTheInputsMetadata(input format: ImageFormat) throws {
        try Self.requireExifToolAndProfile()
        let profile = try [UInt8](Data(contentsOf: URL(fileURLWithPath: ExifTool.adobeRGBProfile)))
        let folder = TemporaryFolder()
        let input = try Self.makeInput(in: folder, format: format)
        let before = try ExifTool.tags(input)
        #expect(
            format == .tiff || before["IFD1:ThumbnailLength"] != nil,
            "exiftool did not put a thumbnail in the \(format) input"
        )
        #expect(try ExifTool.binary("ICC_Profile", of: input) == profile)
        for output in ImageFormat.allCases {
            let path = folder.appending("out-\(output.fileExtension).\(output.fileExtension)")
            let run = try CommandRunner.run(["upscale", input, "--model", Self.model, "-o", path, "-v"])
            #expect(run.status == 0, "\(run.standardError)")
            #expect(
                run.standardError.contains("colour profile Compatible with Adobe RGB (1998): kept"),
                "\(run.standardError)"
            )
            #expect(format == .tiff || run.standardError.contains("thumbnail dropped"), "\(run.standardError)")
            let after = try ExifTool.tags(path)
            let label = "\(format) → \(output)"
            #expect(try ExifTool.binary("ICC_Profile", of: path) == profile, "\(label)")
            // Upright pixels: 24×16 stored with orientation 6 is 16×24, enlarged twice.
            let image = try ImageFile.read(path)
            #expect(image.width == 32 && image.height == 48, "\(label)")
            #expect(after["IFD0:Orientation"] == "1", "\(label)")
            #expect(after["ExifIFD:ExifImageWidth"] == "32" && after["ExifIFD:ExifImageHeight"] == "48", "\(label)")
            for (tag, value) in before
            where (Self.exifIFD0Tags.contains(tag) || ["ExifIFD:", "GPS:"].contains(where: tag.hasPrefix))
                && !Self.changedTags.contains(tag)
            {
                #expect(after[tag] == value, "\(label): \(tag) was \(value), is \(after[tag] ?? "missing")")
            }
            #expect(after["GPS:GPSLatitude"] != nil && after["IFD0:Artist"] == "A. Photographer", "\(label)")
            #expect(!after.keys.contains { $0.hasPrefix("IFD1:") }, "\(label): the thumbnail survived")
            #expect(after["XMP-dc:Title"] == "A test" && after["XMP-tiff:Orientation"] == "1", "\(label)")
            #expect(after["IFD0:XResolution"] == "300" && after["IFD0:YResolution"] == "300", "\(label)")
            switch output {
            case .jpeg: #expect(after["JFIF:XResolution"] == "300" && after["JFIF:ResolutionUnit"] == "1", "\(label)")
            case .png: #expect(after["PNG-pHYs:PixelsPerUnitX"] == "11811", "\(label)")
            case .webp: break
            case .tiff: #expect(after["IFD0:ResolutionUnit"] == "2", "\(label)")
            }
        }
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func stripMetadataLeavesTheProfileOnly() throws {
        try Self.requireExifToolAndProfile()
        let folder = TemporaryFolder()
        let input = try Self.makeInput(in: folder, format: .jpeg)
        for output in ImageFormat.allCases {
            let path = folder.appending("stripped.\(output.fileExtension)")
            let run = try CommandRunner.run(["upscale", input, "--model", Self.model, "-o", path, "--strip-metadata"])
            #expect(run.status == 0, "\(run.standardError)")
            let after = try ExifTool.tags(path)
            let leaked = after.keys.filter {
                ["IFD0:Make", "IFD0:Model", "IFD0:Artist", "ExifIFD:", "GPS:", "IFD1:", "XMP"].contains(
                    where: $0.hasPrefix
                )
            }
            #expect(leaked.isEmpty, "\(output): \(leaked.sorted())")
            #expect(try ExifTool.binary("ICC_Profile", of: path) == ExifTool.binary("ICC_Profile", of: input))
        }
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func dpiScaleKeepsThePrintSizeAndANumberSetsIt() throws {
        try Self.requireExifToolAndProfile()
        let folder = TemporaryFolder()
        let input = try Self.makeInput(in: folder, format: .jpeg)
        for (choice, dpi) in [("scale", "600"), ("150", "150")] {
            let path = folder.appending("dpi-\(choice).jpg")
            let run = try CommandRunner.run(["upscale", input, "--model", Self.model, "-o", path, "--dpi", choice])
            #expect(run.status == 0, "\(run.standardError)")
            let after = try ExifTool.tags(path)
            #expect(after["JFIF:XResolution"] == dpi && after["IFD0:XResolution"] == dpi, "--dpi \(choice): \(after)")
            #expect(after["XMP-tiff:XResolution"] == nil || after["XMP-tiff:XResolution"] == dpi)
        }
        let refused = try CommandRunner.run(
            ["upscale", input, "--model", Self.model, "-o", folder.appending("x.jpg"), "--dpi", "lots"])
        #expect(refused.status != 0 && refused.standardError.contains("--dpi"), "\(refused.standardError)")
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func aCMYKJPEGWithoutAProfileGoesThroughTheStatedOne() throws {
        let path = LittleCMS.cmykProfile
        try #require(FileManager.default.fileExists(atPath: path), "\(path) is missing: apt-get install libgs-common")
        let folder = TemporaryFolder()
        let input = folder.appending("cmyk.jpg")
        let ink = (0..<(16 * 16 * 4)).map { UInt8(truncatingIfNeeded: $0 * 5) }
        try Data(try ImageCodec.encodeCMYKJPEG(ink: ink, width: 16, height: 16)).write(to: URL(fileURLWithPath: input))
        let stated = try CommandRunner.run(
            ["upscale", input, "--model", Self.model, "-o", folder.appending("stated.png"), "-v", "--cmyk-profile", path])
        #expect(stated.status == 0 && stated.standardError.contains("the stated CMYK profile"), "\(stated.standardError)")
        let plain = try CommandRunner.run(["upscale", input, "--model", Self.model, "-o", folder.appending("plain.png"), "-v"])
        #expect(plain.status == 0 && plain.standardError.contains("the plain formula"), "\(plain.standardError)")
        #expect(try ImageFile.read(folder.appending("stated.png")) != ImageFile.read(folder.appending("plain.png")))
        // A profile that is not CMYK is refused with one line and exit status 1.
        let wrong = try CommandRunner.run(
            ["upscale", input, "--model", Self.model, "-o", folder.appending("x.png"), "--cmyk-profile", ExifTool.adobeRGBProfile])
        #expect(wrong.status == 1 && wrong.standardError.contains("--cmyk-profile"), "\(wrong.standardError)")
    }

    @Test func infoSaysWhatTheFileCarries() throws {
        try Self.requireExifToolAndProfile()
        let folder = TemporaryFolder()
        let input = try Self.makeInput(in: folder, format: .png)
        let run = try CommandRunner.run(["info", input])
        #expect(run.status == 0, "\(run.standardError)")
        for expected in [
            "colour profile: Compatible with Adobe RGB (1998) (RGB, \(profileSize()) bytes)", "orientation 6",
            "a thumbnail", "resolution: 300 dpi", "XMP:",
        ] {
            #expect(run.standardOutput.contains(expected), "\(expected) in \(run.standardOutput)")
        }
    }

    private func profileSize() -> Int {
        (try? FileManager.default.attributesOfItem(atPath: ExifTool.adobeRGBProfile)[.size] as? Int) ?? -1
    }
}
