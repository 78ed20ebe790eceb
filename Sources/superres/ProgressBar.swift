import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress bar on standard error, drawn only when standard error is a terminal.
final class ProgressBar {
    private let label: String
    private let enabled: Bool
    private var drawn = false

    init(label: String) {
        self.label = label
        enabled = isatty(STDERR_FILENO) == 1
    }

    /// Redraws the bar at `done` of `total` steps.
    func update(_ done: Int, of total: Int) {
        guard enabled, total > 0 else { return }
        let width = 30
        let filled = width * done / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let percent = 100 * done / total
        printRaw("\r\(label.isEmpty ? "" : label + " ")\(bar) \(percent)% (\(done)/\(total) tiles)")
        drawn = true
    }

    /// Ends the line if anything was drawn.
    func finish() {
        if drawn { printRaw("\n") }
        drawn = false
    }

    private func printRaw(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
