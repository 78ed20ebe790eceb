import ArgumentParser
import Foundation
import Imaging
import Models
import Pipeline

/// A failure to report as one line, exit status 1.
struct CommandLineFailure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }

    /// Runs `body`; any error is printed as one `superres: …` line and the command exits with status 1.
    static func reporting<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("superres: \(describe(error, input: nil))")
            throw ExitCode(1)
        }
    }
}

/// One line that says what went wrong and where.
func describe(_ error: Error, input: String?) -> String {
    switch error {
    case let error as PipelineError:
        return input.map { "\($0): \(error)" } ?? "\(error)"
    case let error as CocoaError:
        return error.localizedDescription
    default:
        return "\(error)"
    }
}

/// Writes one line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
