// Dedicated threads for blocking work: inference (decode, upscale, encode) and file I/O. Neither may run on a NIO
// event loop nor on Swift's cooperative pool, where it would stall every other request.
import NIOPosix
import Synchronization

/// A fixed set of threads (SwiftNIO's `NIOThreadPool`) that run blocking closures in arrival order, counting what
/// waits and what runs for the metrics; async callers are suspended meanwhile.
///
/// The queue itself is unbounded: callers bound it (the `AdmissionQueue` for inference). The compute kernels the
/// closures call use the shared `ComputePool`.
package final class WorkerThreads: Sendable {
    /// The number of threads.
    package let count: Int
    private let pool: NIOThreadPool
    private let queued = Atomic<Int>(0)
    private let active = Atomic<Int>(0)

    /// Starts `count` threads (at least 1).
    package init(count: Int) {
        self.count = max(1, count)
        pool = NIOThreadPool(numberOfThreads: self.count)
        pool.start()
    }

    deinit { pool.shutdownGracefully { _ in } }

    /// Closures waiting for a thread.
    package var waiting: Int { queued.load(ordering: .relaxed) }
    /// Closures running now.
    package var running: Int { active.load(ordering: .relaxed) }

    /// Runs `work` on one of the threads and returns its result; the caller is suspended meanwhile.
    @discardableResult
    package func run<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
            submit {
                let result = Result { try work() }
                return { continuation.resume(with: result) }
            }
        }
    }

    /// Runs `work` on one of the threads and returns its result (no error).
    @discardableResult
    package func run<Value: Sendable>(_ work: @escaping @Sendable () -> Value) async -> Value {
        await withCheckedContinuation { (continuation: CheckedContinuation<Value, Never>) in
            submit {
                let value = work()
                return { continuation.resume(returning: value) }
            }
        }
    }

    /// Queues `work`, counted while it waits and while it runs; what `work` returns hands its result back, once the
    /// thread counts itself idle. A pool already shut down (only at deinit) still runs it, on the thread that hands
    /// it back, so no caller is left suspended.
    private func submit(_ work: @escaping @Sendable () -> (@Sendable () -> Void)) {
        queued.add(1, ordering: .relaxed)
        pool.submit { [self] _ in
            queued.subtract(1, ordering: .relaxed)
            active.add(1, ordering: .relaxed)
            let handBack = work()
            active.subtract(1, ordering: .relaxed)
            handBack()
        }
    }
}
