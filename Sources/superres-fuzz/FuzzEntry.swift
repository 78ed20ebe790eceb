// The fuzz driver. Built by `scripts/fuzz` with `-sanitize=fuzzer,address -D SUPERRES_LIBFUZZER`, it is a libFuzzer
// binary whose target is named by SUPERRES_FUZZ_TARGET. Built normally, it replays files through a harness:
// `superres-fuzz TARGET FILE|FOLDER...` (what libFuzzer found can be rerun without the sanitizer build).
import FuzzHarnesses
import Foundation

#if SUPERRES_LIBFUZZER
import CFuzzing

/// The harness of this run, chosen before libFuzzer starts.
nonisolated(unsafe) private var harness: FuzzHarness = .png

@main
struct FuzzDriver {
    static func main() {
        let name = ProcessInfo.processInfo.environment["SUPERRES_FUZZ_TARGET"] ?? ""
        guard let chosen = FuzzHarness(rawValue: name) else {
            let names = FuzzHarness.allCases.map(\.rawValue).joined(separator: ", ")
            FileHandle.standardError.write(Data("superres-fuzz: set SUPERRES_FUZZ_TARGET to one of \(names)\n".utf8))
            exit(2)
        }
        harness = chosen
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        // SwiftPM gives an executable's main another name and makes `main` an alias of it, so libFuzzer's own main
        // is not linked: its driver is started from here.
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, count in
            _ = harness.run(data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? [])
            return 0
        })
    }
}
#else
@main
struct FuzzReplay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let harness = FuzzHarness(rawValue: name), arguments.count >= 2 else {
            let names = FuzzHarness.allCases.map(\.rawValue).joined(separator: "|")
            print("usage: superres-fuzz \(names) FILE|FOLDER...")
            exit(2)
        }
        var files: [String] = []
        for path in arguments.dropFirst() {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                print("superres-fuzz: no such file: \(path)")
                exit(1)
            }
            if isFolder.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.sorted().map { (path as NSString).appendingPathComponent($0) }
            } else {
                files.append(path)
            }
        }
        var accepted = 0
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            switch harness.run([UInt8](data)) {
            case .accepted:
                accepted += 1
                print("accepted  \(file)")
            case .refused(let reason):
                print("refused   \(file): \(reason.split(separator: "\n").first ?? "")")
            }
        }
        print("\(files.count) inputs, \(accepted) accepted, none crashed")
    }
}
#endif
