import CoreMetrics
import Foundation
import Metrics
import Prometheus
import Synchronization

// Prometheus has types of the same names; these are swift-metrics' API types.
typealias Counter = CoreMetrics.Counter
typealias Gauge = CoreMetrics.Gauge
typealias FloatingPointCounter = CoreMetrics.FloatingPointCounter

/// The service's metrics, recorded through swift-metrics into this server's own Prometheus registry (so that
/// several servers in one process, as in the tests, keep separate counts) and shown by `GET /metrics`.
final class ServerMetrics: Sendable {
    /// The registry `GET /metrics` prints.
    let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let requestCounters = Mutex<[String: Counter]>([:])
    private let requestTimers = Mutex<[String: CoreMetrics.Timer]>([:])
    private let jobCounters = Mutex<[String: Counter]>([:])
    private let jobTimers = Mutex<[String: CoreMetrics.Timer]>([:])
    private let megapixelCounters = Mutex<[String: FloatingPointCounter]>([:])
    /// Upscales waiting for a worker.
    let queueDepth: Gauge
    /// Upscales running on a worker.
    let running: Gauge
    /// Requests refused because the queue was full.
    let rejections: Counter

    init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
        ]
        self.factory = factory
        queueDepth = Gauge(label: "superres_queue_depth", factory: factory)
        running = Gauge(label: "superres_jobs_running", factory: factory)
        rejections = Counter(label: "superres_queue_rejections_total", factory: factory)
    }

    /// Counts one answered request by route (the pattern, not the path) and status, and records its duration.
    func recordRequest(route: String, method: String, status: Int, nanoseconds: UInt64) {
        let key = "\(route) \(method) \(status)"
        let counter = requestCounters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(
                label: "superres_http_requests_total",
                dimensions: [("route", route), ("method", method), ("status", String(status))],
                factory: factory
            )
            counters[key] = counter
            return counter
        }
        counter.increment()
        let timerKey = "\(route) \(method)"
        let timer = requestTimers.withLock { timers in
            if let timer = timers[timerKey] { return timer }
            let timer = CoreMetrics.Timer(
                label: "superres_http_request_duration_seconds",
                dimensions: [("route", route), ("method", method)],
                factory: factory
            )
            timers[timerKey] = timer
            return timer
        }
        timer.recordNanoseconds(Int64(clamping: nanoseconds))
    }

    /// Counts one finished upscale by model and outcome (succeeded, failed, cancelled, timeout), with its
    /// processing time and, for successes, the input megapixels.
    func recordUpscale(model: String, outcome: String, seconds: Double?, megapixels: Double?) {
        let key = "\(model) \(outcome)"
        let counter = jobCounters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(
                label: "superres_upscales_total",
                dimensions: [("model", model), ("outcome", outcome)],
                factory: factory
            )
            counters[key] = counter
            return counter
        }
        counter.increment()
        if let seconds {
            let timer = jobTimers.withLock { timers in
                if let timer = timers[model] { return timer }
                let timer = CoreMetrics.Timer(
                    label: "superres_upscale_duration_seconds",
                    dimensions: [("model", model)],
                    factory: factory
                )
                timers[model] = timer
                return timer
            }
            timer.recordNanoseconds(Int64(seconds * 1e9))
        }
        if let megapixels {
            let counter = megapixelCounters.withLock { counters in
                if let counter = counters[model] { return counter }
                let counter = FloatingPointCounter(
                    label: "superres_megapixels_processed_total",
                    dimensions: [("model", model)],
                    factory: factory
                )
                counters[model] = counter
                return counter
            }
            counter.increment(by: megapixels)
        }
    }

    /// The Prometheus text exposition of every metric.
    func exposition() -> String {
        registry.emitToString()
    }
}
