import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress bar on standard error, drawn only when standard error is a terminal.
///
/// Safe to use from several threads: `FileBatch` draws it from the network's thread and reports failures through
/// `printLine` from the encoding thread.
final class ProgressBar: Sendable {
    private struct State {
        var label: String
        var drawn = false
    }

    private let enabled: Bool
    private let state: Mutex<State>

    init(label: String) {
        enabled = isatty(STDERR_FILENO) == 1
        state = Mutex(State(label: label))
    }

    /// Ends the current line, if drawn, and labels the next bar `label`.
    func restart(label: String) {
        state.withLock { state in
            if state.drawn { Self.printRaw("\n") }
            state = State(label: label)
        }
    }

    /// Redraws the bar at `done` of `total` steps.
    func update(_ done: Int, of total: Int) {
        guard enabled, total > 0 else { return }
        let width = 30
        let filled = width * done / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let percent = 100 * done / total
        state.withLock { state in
            Self.printRaw("\r\(state.label.isEmpty ? "" : state.label + " ")\(bar) \(percent)% (\(done)/\(total) tiles)")
            state.drawn = true
        }
    }

    /// Prints `message` as a line of its own: the bar's line is cleared first and redrawn at the next update.
    func printLine(_ message: String) {
        state.withLock { state in
            Self.printRaw((state.drawn ? "\r\u{1B}[K" : "") + message + "\n")
            state.drawn = false
        }
    }

    /// Ends the line if anything was drawn.
    func finish() {
        state.withLock { state in
            if state.drawn { Self.printRaw("\n") }
            state.drawn = false
        }
    }

    private static func printRaw(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// A count of failed jobs, added to from the encoding thread.
final class FailureCount: Sendable {
    private let value = Mutex(0)

    /// Counts one more failure.
    func add() { value.withLock { $0 += 1 } }

    /// The failures so far.
    var count: Int { value.withLock { $0 } }
}
