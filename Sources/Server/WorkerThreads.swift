// Dedicated threads for blocking work: inference (decode, upscale, encode) and file I/O. Neither may run on a NIO
// event loop nor on Swift's cooperative pool, where it would stall every other request.
import Foundation
import Synchronization

/// A fixed set of threads that run blocking closures in arrival order; async callers resume through a continuation.
///
/// The queue itself is unbounded: callers bound it (the `AdmissionQueue` for inference). The closures run
/// synchronously on the pool's own `Thread`s; the compute kernels they call use the shared `ComputePool`.
public final class WorkerThreads: Sendable {
    /// The number of threads.
    public let count: Int
    /// The threads' name prefix, as shown by `top -H` and in crash logs.
    public let name: String
    private let state: State

    /// Starts `count` threads (at least 1) named `<name>-<n>`, each with an 8 MiB stack.
    public init(count: Int, name: String) {
        self.count = max(1, count)
        self.name = name
        state = State()
        for index in 0..<self.count {
            let state = self.state
            let thread = Thread { state.workLoop() }
            thread.name = "\(name)-\(index + 1)"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    deinit { state.stop() }

    /// Closures waiting for a thread.
    public var waiting: Int { state.counts().waiting }
    /// Closures running now.
    public var running: Int { state.counts().running }

    /// Runs `work` on one of the threads and returns its result; the caller is suspended meanwhile.
    @discardableResult
    public func run<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
            state.enqueue {
                let result = Result { try work() }
                return { continuation.resume(with: result) }
            }
        }
    }

    /// Runs `work` on one of the threads and returns its result (no error).
    @discardableResult
    public func run<Value: Sendable>(_ work: @escaping @Sendable () -> Value) async -> Value {
        await withCheckedContinuation { (continuation: CheckedContinuation<Value, Never>) in
            state.enqueue {
                let value = work()
                return { continuation.resume(returning: value) }
            }
        }
    }

    /// Work that returns how to hand its result back; the hand-back runs once the thread counts itself idle.
    private typealias Item = @Sendable () -> (@Sendable () -> Void)

    /// The queue and the threads' condition variable.
    private final class State: Sendable {
        private struct Queue {
            var items: [Item] = []
            var head = 0
            var running = 0
            var stopping = false

            var waiting: Int { items.count - head }

            mutating func pop() -> Item? {
                guard head < items.count else { return nil }
                let item = items[head]
                head += 1
                if head > 64, head * 2 > items.count {
                    items.removeFirst(head)
                    head = 0
                }
                return item
            }
        }

        private let queue = Mutex(Queue())
        // NSCondition pairs with `queue` only for sleeping and waking: every read or write of the queue happens
        // inside `queue.withLock`, and a waiter re-checks after each wake-up.
        private let condition = NSCondition()

        func enqueue(_ item: @escaping Item) {
            condition.lock()
            queue.withLock { $0.items.append(item) }
            condition.signal()
            condition.unlock()
        }

        func stop() {
            condition.lock()
            queue.withLock { $0.stopping = true }
            condition.broadcast()
            condition.unlock()
        }

        func counts() -> (waiting: Int, running: Int) {
            queue.withLock { ($0.waiting, $0.running) }
        }

        func workLoop() {
            while true {
                condition.lock()
                var item: Item?
                while true {
                    let (next, stopping) = queue.withLock { queue -> (Item?, Bool) in
                        let next = queue.pop()
                        if next != nil { queue.running += 1 }
                        return (next, queue.stopping)
                    }
                    if let next {
                        item = next
                        break
                    }
                    if stopping {
                        condition.unlock()
                        return
                    }
                    condition.wait()
                }
                condition.unlock()
                let handBack = item?()
                queue.withLock { $0.running -= 1 }
                handBack?()
            }
        }
    }
}
