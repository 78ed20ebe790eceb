import Foundation
import TestSupport
import Testing

/// `superres serve` and `superres worker` read their shared settings (jobs, store) the same way and refuse bad ones
/// before they load a model or reach a store.
@Suite(.enabled(if: CommandRunner.isAvailable, "the superres binary was not built"))
struct NodeCommandTests {
    /// A store nothing listens on: the settings are refused before any connection is tried.
    static let store = "postgres://nobody@127.0.0.1:1/none"

    @Test func workerWithoutAStoreExitsWith64() throws {
        let result = try CommandRunner.run(["worker", "--model", "srmd-x3"], environment: ["SUPERRES_STORE": ""])
        #expect(result.status == 64, "\(result.standardError)")
        #expect(result.standardError.contains("--store (or SUPERRES_STORE) is required"), "\(result.standardError)")
    }

    @Test func workerRefusesTheJobSettingsServeRefuses() throws {
        let both = ["serve", "worker"]
        let cases: [(commands: [String], arguments: [String], environment: [String: String], message: String)] = [
            (both, ["--max-memory-mb", "0"], [:], "--max-memory-mb must be positive"),
            (both, ["--grace-period=-1"], [:], "--grace-period must be 0 or more"),
            (both, [], ["SUPERRES_JOB_TIMEOUT": "-5"], "--job-timeout must be positive"),
            (both, [], ["SUPERRES_TILE": "many"], "SUPERRES_TILE=many is not a valid value"),
            (["worker"], ["--workers", "0"], [:], "--workers must be at least 1"),
        ]
        for (commands, arguments, environment, message) in cases {
            for command in commands {
                let result = try CommandRunner.run(
                    [command, "--store", Self.store, "--model", "srmd-x3"] + arguments, environment: environment)
                #expect(result.status == 64, "\(command) \(arguments) \(environment): \(result.standardError)")
                #expect(
                    result.standardError.contains("superres: \(command): \(message)"),
                    "\(command) \(arguments) \(environment): \(result.standardError)")
            }
        }
    }

    @Test func leaseSettingsWithoutAStoreExitWith64() throws {
        let result = try CommandRunner.run(
            ["serve", "--model", "srmd-x3", "--lease-seconds", "5"], environment: ["SUPERRES_STORE": ""])
        #expect(result.status == 64, "\(result.standardError)")
        #expect(result.standardError.contains("need --store"), "\(result.standardError)")
    }
}
