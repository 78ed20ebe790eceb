import Foundation
import ModelStore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress bar on standard error, drawn only when standard error is a terminal: tiles of an upscale,
/// bytes of a download, or images of a batch.
///
/// Safe to use from several threads: `FileBatch` draws it from the network's thread and reports failures through
/// `printLine` from the encoding thread; downloads report from the HTTP client's.
final class ProgressBar: Sendable {
    /// What the bar counts.
    enum Amounts: Sendable {
        /// Tiles of a network run: `(3/8 tiles)`.
        case tiles
        /// Bytes of a download: `1.2 MB / 3.0 MB`.
        case bytes
        /// Images of a batch: `(4/10 images)`.
        case images
    }

    private struct State {
        var label: String
        var drawn = false
        var lastLine = ""
        /// The result's size in pixels, for the megapixel count, rate and time left of a long upscale.
        var outputPixels: Int?
        var started = ContinuousClock.now
    }

    private let enabled: Bool
    private let amounts: Amounts
    private let state: Mutex<State>

    /// A bar labelled `label` counting `amounts`; never drawn unless `drawing` (and standard error is a terminal).
    init(label: String, amounts: Amounts = .tiles, drawing: Bool = true) {
        enabled = drawing && isatty(STDERR_FILENO) == 1
        self.amounts = amounts
        state = Mutex(State(label: label))
    }

    /// Ends the current line, if drawn, and labels the next bar `label`; with `outputPixels` (the size of the result)
    /// the bar also shows megapixels done, the rate and the time left.
    func restart(label: String, outputPixels: Int? = nil) {
        state.withLock { state in
            if state.drawn { Self.printRaw("\n") }
            state = State(label: label, outputPixels: outputPixels)
        }
    }

    /// Redraws the bar at `done` of `total`; a new `label` ends the current line first.
    func update(_ done: Int, of total: Int, label: String? = nil) {
        guard enabled, total > 0 else { return }
        let width = 30
        let filled = width * min(done, total) / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let percent = 100 * done / total
        state.withLock { state in
            if let label, label != state.label {
                if state.drawn { Self.printRaw("\n") }
                state = State(label: label)
            }
            let count =
                switch amounts {
                case .tiles: "(\(done)/\(total) tiles\(Self.pace(done, of: total, state)))"
                case .bytes: "\(ModelStore.formattedSize(done)) / \(ModelStore.formattedSize(total))"
                case .images: "(\(done)/\(total) images)"
                }
            let line = "\(state.label.isEmpty ? "" : state.label + " ")\(bar) \(percent)% \(count)"
            // A download reports every few kilobytes: draw only what changed.
            guard line != state.lastLine else { return }
            Self.printRaw("\r\(line)\u{1B}[K")
            state.lastLine = line
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
            state.lastLine = ""
        }
    }

    /// ", 12.1 of 81.0 MP, 0.90 MP/s, 1:15 left" for a long upscale; "" before there is a rate to tell.
    private static func pace(_ done: Int, of total: Int, _ state: State) -> String {
        guard let pixels = state.outputPixels, done > 0 else { return "" }
        let elapsed = state.started.duration(to: .now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        guard seconds >= 1 else { return "" }
        let megapixels = Double(pixels) / 1e6
        let doneMegapixels = megapixels * Double(done) / Double(total)
        let rate = doneMegapixels / seconds
        let left = Int((megapixels - doneMegapixels) / max(rate, 1e-9))
        let time = left >= 3600 ? "\(left / 3600):\(String(format: "%02d:%02d", left / 60 % 60, left % 60))" : "\(left / 60):\(String(format: "%02d", left % 60))"
        return String(format: ", %.1f of %.1f MP, %.2f MP/s, ", doneMegapixels, megapixels, rate) + time + " left"
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
