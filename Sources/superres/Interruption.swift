import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C (SIGINT) or a polite kill (SIGTERM) turned into a request to stop: the running upscale stops at its next
/// tile and removes its partial file, and the command exits with 128 + the signal's number (130 for Ctrl-C), as
/// shells expect of a program stopped by a signal.
final class Interruption: Sendable {
    /// The signal received, 0 for none.
    private let received = Atomic<Int32>(0)
    /// Kept alive for as long as the handlers are installed.
    nonisolated(unsafe) private var sources: [any DispatchSourceSignal] = []

    private init() {}

    /// Catches SIGINT and SIGTERM from now on.
    static func install() -> Interruption {
        let interruption = Interruption()
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                _ = interruption.received.compareExchange(expected: 0, desired: number, ordering: .relaxed)
            }
            source.resume()
            interruption.sources.append(source)
        }
        return interruption
    }

    /// Whether a stop was asked for.
    var isRequested: Bool { received.load(ordering: .relaxed) != 0 }

    /// The exit status for the signal received: 128 + its number.
    var exitStatus: Int32 { 128 + received.load(ordering: .relaxed) }
}
