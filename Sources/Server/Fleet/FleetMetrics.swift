import JobQueue

/// The fleet's numbers in Prometheus text, read from the store, so that every API node shows the whole fleet.
enum FleetMetrics {
    /// The exposition of `statistics`: jobs per state, leases and retries, and each worker's work.
    static func exposition(_ statistics: QueueStatistics) -> String {
        var lines: [String] = []
        func family(_ name: String, _ type: String, _ help: String) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) \(type)")
        }
        family("superres_store_jobs", "gauge", "Jobs in the shared store by state (queued is the fleet's queue depth).")
        for state in ["queued", "running", "succeeded", "failed", "cancelled"] {
            lines.append("superres_store_jobs{state=\"\(state)\"} \(statistics.jobs[state] ?? 0)")
        }
        family("superres_store_leases_expired_total", "counter", "Leases that expired because a worker stopped.")
        lines.append("superres_store_leases_expired_total \(statistics.leasesExpired)")
        family("superres_store_retries_total", "counter", "Jobs queued again after an expired lease.")
        lines.append("superres_store_retries_total \(statistics.retries)")
        func perWorker(_ name: String, _ type: String, _ help: String, _ samples: (WorkerRow) -> [(String, String)]) {
            family(name, type, help)
            for worker in statistics.workers {
                for (extraLabels, value) in samples(worker) {
                    lines.append("\(name){worker=\"\(label(worker.name))\"\(extraLabels)} \(value)")
                }
            }
        }
        perWorker("superres_worker_alive", "gauge", "1 while the worker's heartbeat is recent.") {
            [("", $0.alive ? "1" : "0")]
        }
        perWorker("superres_worker_jobs_total", "counter", "Jobs each worker finished, by outcome.") {
            [(",outcome=\"succeeded\"", "\($0.succeeded)"), (",outcome=\"failed\"", "\($0.failed)")]
        }
        perWorker("superres_worker_leases_taken_total", "counter", "Leases each worker took.") {
            [("", "\($0.leasesTaken)")]
        }
        perWorker("superres_worker_leases_renewed_total", "counter", "Lease renewals each worker made.") {
            [("", "\($0.leasesRenewed)")]
        }
        perWorker("superres_worker_busy_seconds_total", "counter", "Seconds each worker spent on jobs.") {
            [("", "\($0.busySeconds)")]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `text` escaped for a label value.
    private static func label(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
