import Foundation
import FuzzHarnesses
import TestSupport
import Testing

/// The seed corpora in fuzz/corpus: every harness has one, its seeds are read as valid (those named `refused-*` as
/// refused), and damaged variants of them come back as typed refusals rather than traps. `scripts/fuzz` does the
/// real fuzzing under AddressSanitizer; these tests keep the seeds and harnesses honest in every test run.
@Suite struct SeedCorpusTests {
    static let corpusRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fuzz/corpus").path

    static func seeds(of harness: FuzzHarness) throws -> [(name: String, bytes: [UInt8])] {
        let folder = (corpusRoot as NSString).appendingPathComponent(harness.rawValue)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        return try names.map { name in
            let data = try Data(contentsOf: URL(fileURLWithPath: (folder as NSString).appendingPathComponent(name)))
            return (name, [UInt8](data))
        }
    }

    @Test(arguments: FuzzHarness.allCases)
    func seedsAreReadAsTheirNamesSay(_ harness: FuzzHarness) throws {
        let seeds = try Self.seeds(of: harness)
        #expect(seeds.count >= 2, "fuzz/corpus/\(harness.rawValue) needs seeds")
        for seed in seeds {
            let outcome = harness.run(seed.bytes)
            if seed.name.hasPrefix("refused-") {
                #expect(outcome != .accepted, "\(seed.name) should be refused")
            } else {
                #expect(outcome == .accepted, "\(seed.name): \(outcome)")
            }
        }
    }

    @Test(arguments: FuzzHarness.allCases)
    func emptyAndTinyInputsAreRefused(_ harness: FuzzHarness) {
        for input in [[], [0], [0xFF, 0xD8], Array("7767517\n".utf8)] as [[UInt8]] {
            guard case .refused(let reason) = harness.run(input) else {
                Issue.record("\(harness.rawValue) accepted \(input)")
                continue
            }
            #expect(!reason.isEmpty)
        }
    }

    /// Truncations and byte changes of every seed (a fixed pseudo-random sequence): each is accepted or refused
    /// with a message; a trap would end the test process.
    @Test(arguments: FuzzHarness.allCases)
    func damagedSeedsAreRefusedWithAReason(_ harness: FuzzHarness) throws {
        var generator = SeededGenerator(seed: 0x5EED)
        var refusals = 0
        for seed in try Self.seeds(of: harness) where !seed.bytes.isEmpty {
            for _ in 0..<60 {
                var bytes = seed.bytes
                switch generator.next() % 3 {
                case 0: bytes.removeLast(Int(generator.next() % UInt64(bytes.count)) + 1)
                case 1:
                    for _ in 0...(generator.next() % 4) {
                        bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
                    }
                default:
                    let at = Int(generator.next() % UInt64(bytes.count))
                    bytes.insert(contentsOf: repeatElement(0xFF, count: Int(generator.next() % 64)), at: at)
                }
                if case .refused(let reason) = harness.run(bytes) {
                    #expect(!reason.isEmpty)
                    refusals += 1
                }
            }
        }
        #expect(refusals > 0, "no damaged \(harness.rawValue) input was refused")
    }
}
