import Imaging
import Synchronization

/// Asks a running upscale to stop at its next tile; read by the worker thread, set from any thread.
final class CancelToken: Sendable {
    /// Why the upscale should stop.
    enum Reason: UInt8, Sendable {
        case none = 0
        /// A client cancelled the job (`DELETE /api/v1/jobs/{id}`).
        case user = 1
        /// The server is shutting down and the grace period is over.
        case shutdown = 2
        /// The worker's lease on the job was lost (the job went back to the shared queue): drop the work.
        case leaseLost = 3
    }

    private let value = Atomic<UInt8>(Reason.none.rawValue)
    /// The same request for the codecs, which check it inside a decode or encode; the worker also sets its
    /// deadline (the job timeout).
    let codecs = CodecCancellation()

    /// Sets the reason unless one is already set (the first reason wins).
    func cancel(_ reason: Reason) {
        _ = value.compareExchange(expected: Reason.none.rawValue, desired: reason.rawValue, ordering: .relaxed)
        codecs.cancel()
    }

    /// The reason given, or `.none`.
    var reason: Reason { Reason(rawValue: value.load(ordering: .relaxed)) ?? .none }

    /// Whether a reason has been given.
    var isCancelled: Bool { reason != .none }
}

/// Thrown by a worker when its upscale was stopped through a `CancelToken`.
struct UpscaleStopped: Error, Sendable {
    let reason: CancelToken.Reason
}
