// The process-wide pool of compute threads that every parallel kernel shares.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A fixed set of worker threads (one per core by default) that runs `parallelFor` loops.
///
/// Kernels are synchronous: the calling thread takes part in the loop and returns when every index has run.
/// One loop runs at a time; a second caller waits its turn. A `parallelFor` nested inside another runs serially
/// on the calling thread, so kernels may call each other freely.
package final class ComputePool: Sendable {
    /// The pool the kernels use; its size follows `configure(threads:)`.
    package static var shared: ComputePool { sharedPool.withLock { $0 } }

    private static let sharedPool = Mutex(ComputePool(threadCount: defaultThreadCount))

    /// One thread per online core.
    package static var defaultThreadCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// Replaces the shared pool with one of `threads` threads (at least 1).
    package static func configure(threads: Int) {
        let wanted = max(1, threads)
        sharedPool.withLock { pool in
            if pool.threadCount != wanted { pool = ComputePool(threadCount: wanted) }
        }
    }

    /// The number of threads that run a loop, the caller included.
    package let threadCount: Int
    private let state: PoolState
    private let callerLock = Mutex(())

    /// A pool of `threadCount` threads (the caller plus `threadCount - 1` workers).
    package init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
        state = PoolState()
        for thread in 1..<self.threadCount { state.startWorker(thread: thread) }
    }

    deinit { state.shutDown() }

    /// Runs `body(i)` for every `i` in `0..<count`, spread over the pool's threads; returns when all are done.
    ///
    /// `grain` indices are handed out at a time; use more than one when each index is tiny.
    package func parallelFor(_ count: Int, grain: Int = 1, _ body: (Int) -> Void) {
        guard count > 0 else { return }
        if count == 1 || threadCount == 1 || PoolState.insideLoop {
            for index in 0..<count { body(index) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            callerLock.withLock { _ in
                let job = ParallelLoop(count: count, chunk: max(1, grain)) { index, _ in escapable(index) }
                state.run(job, workers: threadCount - 1)
            }
        }
    }

    /// Runs `body(i, thread)` for every `i` in `0..<count`, one index at a time, where `thread` (in
    /// `0..<threadCount`) names the pool thread running it: no two calls with the same `thread` overlap, so a body
    /// may use a per-thread scratch region. A nested loop runs serially with `thread` 0.
    package func parallelForEachThread(_ count: Int, _ body: (_ index: Int, _ thread: Int) -> Void) {
        guard count > 0 else { return }
        if count == 1 || threadCount == 1 || PoolState.insideLoop {
            for index in 0..<count { body(index, 0) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            callerLock.withLock { _ in
                state.run(ParallelLoop(count: count, chunk: 1, body: escapable), workers: threadCount - 1)
            }
        }
    }
}

/// One `parallelFor` loop: indices are claimed `chunk` at a time from an atomic counter.
private final class ParallelLoop: @unchecked Sendable {
    // @unchecked Sendable: `body` is only called while the posting thread waits in `PoolState.run`.
    let count: Int
    let chunk: Int
    let body: (_ index: Int, _ thread: Int) -> Void
    let nextIndex = Atomic<Int>(0)

    init(count: Int, chunk: Int, body: @escaping (_ index: Int, _ thread: Int) -> Void) {
        self.count = count
        self.chunk = chunk
        self.body = body
    }

    /// Runs indices until none is left, on behalf of pool thread `thread`.
    func drain(thread: Int) {
        while true {
            let start = nextIndex.wrappingAdd(chunk, ordering: .relaxed).oldValue
            if start >= count { return }
            for index in start..<min(start + chunk, count) { body(index, thread) }
        }
    }
}

/// What a new worker thread is handed: the shared state and its thread number.
private final class WorkerStart: Sendable {
    let state: PoolState
    let thread: Int

    init(state: PoolState, thread: Int) {
        self.state = state
        self.thread = thread
    }
}

/// The threads' shared state; workers keep it alive, so the pool itself can go away and tell them to stop.
private final class PoolState: @unchecked Sendable {
    // @unchecked Sendable: every stored var is read and written only with `mutex` held.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let finished = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var generation = 0
    private var activeWorkers = 0
    private var shuttingDown = false
    private var job: ParallelLoop?

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(finished, nil)
    }

    deinit {
        pthread_cond_destroy(finished)
        pthread_cond_destroy(wake)
        pthread_mutex_destroy(mutex)
        finished.deallocate()
        wake.deallocate()
        mutex.deallocate()
    }

    func run(_ job: ParallelLoop, workers: Int) {
        pthread_mutex_lock(mutex)
        self.job = job
        generation += 1
        activeWorkers = workers
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)

        PoolState.insideLoop = true
        job.drain(thread: 0)
        PoolState.insideLoop = false

        pthread_mutex_lock(mutex)
        while activeWorkers > 0 { pthread_cond_wait(finished, mutex) }
        self.job = nil
        pthread_mutex_unlock(mutex)
    }

    func shutDown() {
        pthread_mutex_lock(mutex)
        shuttingDown = true
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
    }

    /// Starts the worker that runs loop bodies as pool thread `thread` (1 or more; the caller is 0).
    func startWorker(thread index: Int) {
        let context = Unmanaged.passRetained(WorkerStart(state: self, thread: index)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(
            &thread, nil,
            { raw in
                let start = Unmanaged<WorkerStart>.fromOpaque(raw!).takeRetainedValue()
                start.state.workerLoop(thread: start.thread)
                return nil
            }, context)
        precondition(status == 0, "pthread_create failed: \(status)")
        pthread_detach(thread)
    }

    private func workerLoop(thread: Int) {
        PoolState.insideLoop = true
        var seenGeneration = 0
        while true {
            pthread_mutex_lock(mutex)
            while generation == seenGeneration && !shuttingDown { pthread_cond_wait(wake, mutex) }
            if shuttingDown {
                pthread_mutex_unlock(mutex)
                return
            }
            seenGeneration = generation
            var current = job
            pthread_mutex_unlock(mutex)

            current?.drain(thread: thread)
            // Let go of the job (and its non-escaping body) before the caller can return.
            current = nil

            pthread_mutex_lock(mutex)
            activeWorkers -= 1
            if activeWorkers == 0 { pthread_cond_signal(finished) }
            pthread_mutex_unlock(mutex)
        }
    }

    /// Whether the current thread is already running a loop body (so a nested loop runs serially).
    static var insideLoop: Bool {
        get { pthread_getspecific(insideLoopKey) != nil }
        set { pthread_setspecific(insideLoopKey, newValue ? UnsafeRawPointer(bitPattern: 1) : nil) }
    }

    private static let insideLoopKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()
}
