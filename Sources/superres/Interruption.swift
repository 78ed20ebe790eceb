import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C (SIGINT) turned into a request to stop: the running upscale stops at its next tile, removes its partial
/// file, and the command exits with status 130, as shells expect of a program stopped by SIGINT.
final class Interruption: Sendable {
    private let requested = Atomic(false)
    /// Kept alive for as long as the handler is installed.
    nonisolated(unsafe) private var source: (any DispatchSourceSignal)?

    private init() {}

    /// Catches SIGINT from now on.
    static func install() -> Interruption {
        let interruption = Interruption()
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { interruption.requested.store(true, ordering: .relaxed) }
        source.resume()
        interruption.source = source
        return interruption
    }

    /// Whether Ctrl-C was pressed.
    var isRequested: Bool { requested.load(ordering: .relaxed) }
}
