import HTTPTypes

/// Bounds the upscales in flight (running plus waiting for a worker); past the bound, work is refused with 503.
///
/// Every upscale, from `POST /enhance` or a job, holds one ticket from admission until it has finished, so at most
/// `workers + capacity` images are held in memory or on the workers' queue at once.
actor AdmissionQueue {
    /// Inference workers (upscales that run at once).
    let workers: Int
    /// Upscales that may wait for a worker.
    let capacity: Int
    /// Upscales admitted and not yet finished.
    private(set) var inFlight = 0
    /// Whether admission has stopped for good (shutdown).
    private(set) var isClosed = false
    /// Moving average of an upscale's duration in seconds, for `Retry-After`.
    private var averageSeconds = 1.0

    init(workers: Int, capacity: Int) {
        self.workers = max(1, workers)
        self.capacity = max(0, capacity)
    }

    /// Takes a place; throws `.queueFull` (with `Retry-After`) when every place is taken, `.shuttingDown` after
    /// `close()`.
    func admit() throws(ServiceError) {
        if isClosed {
            throw ServiceError(.shuttingDown, "The server is shutting down and takes no new images. Try again shortly.")
        }
        guard inFlight < workers + capacity else {
            let seconds = retryAfterSeconds
            throw ServiceError(
                .queueFull,
                "All \(workers) worker\(workers == 1 ? " is" : "s are") busy and the queue of \(capacity) is full. "
                    + "Try again in \(seconds) second\(seconds == 1 ? "" : "s").",
                headers: [.retryAfter: String(seconds)]
            )
        }
        inFlight += 1
    }

    /// Takes a place for work accepted before a restart, past the capacity if need be: it was admitted once already.
    func admitResumed() {
        inFlight += 1
    }

    /// Gives a place back; `seconds` is how long the upscale ran, if it ran.
    func release(processingSeconds seconds: Double?) {
        precondition(inFlight > 0, "release without admit")
        inFlight -= 1
        if let seconds, seconds.isFinite, seconds >= 0 {
            averageSeconds = 0.8 * averageSeconds + 0.2 * seconds
        }
    }

    /// Stops admitting work; what is in flight goes on.
    func close() {
        isClosed = true
    }

    /// A guess at when a place frees up: the work ahead divided among the workers, 1...120 seconds.
    var retryAfterSeconds: Int {
        let ahead = Double(inFlight - workers + 1) / Double(workers)
        return min(120, max(1, Int((ahead * averageSeconds).rounded(.up))))
    }
}
