import Foundation
import TestSupport
import Testing

/// `superres models add|remove` and an added ONNX model used by name, with the store in a temporary folder. The model
/// is the ONNX fuzz seed `fixed-x2.onnx` (a small ×2 network exported at 64 × 64, in the repository).
@Suite(
    .enabled(if: CommandRunner.isAvailable, "the superres binary was not built"),
    .enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)")
)
struct ModelsAddTests {
    static let seed = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fuzz/corpus/onnx").path

    @Test func anAddedModelIsListedVerifiedUsedByNameAndRemoved() throws {
        let store = try CommandRunner.temporaryFolder("models-add")
        defer { try? FileManager.default.removeItem(at: store) }
        let environment = ["SUPERRES_MODELS": store.path, "SUPERRES_MODEL_BASE_URL": ""]
        let added = try CommandRunner.run(
            ["models", "add", Self.seed + "/fixed-x2.onnx", "--name", "tiny-x2", "--scale", "2", "--licence", "MIT",
             "--summary", "a test network"],
            environment: environment)
        #expect(added.status == 0, "\(added.standardError)")
        let file = store.path + "/user/tiny-x2/fixed-x2.onnx"
        #expect(added.standardOutput.contains("added tiny-x2: ×2 ONNX model"))
        #expect(FileManager.default.contentsEqual(atPath: file, andPath: Self.seed + "/fixed-x2.onnx"))

        let list = try CommandRunner.run(["models", "list", "--verbose"], environment: environment)
        let row = try #require(list.standardOutput.split(separator: "\n").first { $0.hasPrefix("tiny-x2 ") })
        #expect(row.contains("onnx (added)") && row.contains("×2") && row.contains(file))
        #expect(list.standardOutput.contains("licence: MIT") && list.standardOutput.contains("about:   a test network"))

        let path = try CommandRunner.run(["models", "path", "tiny-x2"], environment: environment)
        #expect(path.standardOutput == file + "\n")
        let info = try CommandRunner.run(["info", "tiny-x2"], environment: environment)
        #expect(info.status == 0 && info.standardOutput.contains("family:      onnx"))

        let output = store.appendingPathComponent("baby-x2.png").path
        let upscaled = try CommandRunner.run(
            ["upscale", SharedData.path("datasets/Set5/baby.png"), "-o", output, "--model", "tiny-x2"],
            environment: environment)
        #expect(upscaled.status == 0, "\(upscaled.standardError)")
        #expect(FileManager.default.fileExists(atPath: output))

        // A changed byte is found by verify (same size, other SHA-256).
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        bytes[bytes.count - 1] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: file))
        let verify = try CommandRunner.run(["models", "verify", "tiny-x2"], environment: environment)
        #expect(verify.status == 1)
        #expect(verify.standardOutput.contains("tiny-x2  corrupt  fixed-x2.onnx has SHA-256"))

        let removed = try CommandRunner.run(["models", "remove", "tiny-x2"], environment: environment)
        #expect(removed.status == 0)
        #expect(!FileManager.default.fileExists(atPath: store.path + "/user/tiny-x2"))
        let again = try CommandRunner.run(["models", "remove", "tiny-x2"], environment: environment)
        #expect(again.status == 1 && again.standardError.contains("no added model named tiny-x2"))
    }

    @Test func filesThatCannotRunAreRefusedBeforeAnythingIsCopied() throws {
        let store = try CommandRunner.temporaryFolder("models-add-refused")
        defer { try? FileManager.default.removeItem(at: store) }
        let environment = ["SUPERRES_MODELS": store.path, "SUPERRES_MODEL_BASE_URL": ""]
        let cases: [([String], Int32, String)] = [
            (["refused-unsupported-operators.onnx", "--name", "x"], 1, "unsupported ONNX operators: Einsum (1×)"),
            (["refused-huge-initializer.onnx", "--name", "x"], 1, "claims more than"),
            (["fixed-x2.onnx", "--name", "x", "--scale", "4"], 1, "the file is a ×2 model, not ×4"),
            (["fixed-x2.onnx", "--name", "edsr-x3"], 64, "is a catalogue model"),
            (["fixed-x2.onnx", "--name", "Has Space"], 64, "lowercase letters"),
        ]
        for (arguments, status, message) in cases {
            let result = try CommandRunner.run(
                ["models", "add", Self.seed + "/" + arguments[0]] + arguments.dropFirst(), environment: environment)
            #expect(result.status == status, "\(arguments): \(result.standardError)")
            #expect(result.standardError.contains(message), "\(arguments): \(result.standardError)")
            let lines = result.standardError.trimmingCharacters(in: .newlines).split(separator: "\n")
            #expect(lines.count == 1 || status == 64, "one line: \(result.standardError)")
        }
        let user = (try? FileManager.default.contentsOfDirectory(atPath: store.path + "/user")) ?? []
        #expect(user.isEmpty, "left behind: \(user)")
    }
}
