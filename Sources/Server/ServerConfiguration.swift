import Foundation
import Imaging
import Kernels
import Logging
import Pipeline

/// The settings of `superres serve`, as resolved from flags, environment variables and defaults.
package struct ServerConfiguration: Sendable {
    /// Address to listen on.
    package var host: String = "127.0.0.1"
    /// TCP port; 0 picks a free one.
    package var port: Int = 8080
    /// Model files (or catalogue names); the first is the default model.
    package var models: [String] = []
    /// The largest request body accepted, in bytes (the whole multipart body).
    package var maxUploadBytes: Int = 25 << 20
    /// The request bodies that may be in memory at once, in bytes: each upload reserves its declared length before
    /// its body is read; past the budget, uploads are refused with 503.
    package var maxInflightUploadBytes: Int = 512 << 20
    /// The largest input image accepted, in pixels, checked from the header before decoding.
    package var maxPixels: Int = 16_000_000
    /// The largest result, in pixels, checked from the upload's header and the model's scale before it is queued.
    package var maxOutputPixels: Int = OutputLimits().maxPixels
    /// Inference worker threads: how many images are enlarged at once.
    package var workers: Int = 1
    /// Requests and jobs that may wait for a worker; more are refused with 503.
    package var queueCapacity: Int = 16
    /// Where job inputs, results and records are kept.
    package var dataDirectory: String = ServerConfiguration.defaultDataDirectory
    /// The longest one upscale may run; it is stopped at the next tile after that.
    package var jobTimeout: Duration = .seconds(600)
    /// How long a finished job (and its files) is kept.
    package var expiry: Duration = .seconds(24 * 3600)
    /// How long a shutdown waits for running jobs before stopping them.
    package var shutdownGracePeriod: Duration = .seconds(30)
    /// How long a connection may send nothing (half a request line, a stalled header or body, or idle between
    /// requests) before the server closes it.
    package var idleTimeout: Duration = .seconds(30)
    /// The bytes a second a client must average while the server waits for its request (header or body), after
    /// `transferGrace`; slower connections are closed. 0: no minimum.
    package var minTransferRate: Int = 500
    /// The waiting every request is allowed before `minTransferRate` counts.
    package var transferGrace: Duration = .seconds(20)
    /// The most connections open at once; more are closed as they arrive (the file-descriptor limit must allow it).
    package var maxConnections: Int = 16384
    /// The most bytes the jobs' files (inputs, results, records) may take in the data folder; nil: no quota.
    package var maxDataBytes: Int?
    /// The API keys callers must present (`--api-keys-file`); nil: the API is open to whoever can reach it.
    package var apiKeys: APIKeys?
    /// Requests a minute each caller (API key, else client address) may make on the API; 0: no limit; nil: the
    /// default, no limit on a loopback address and `defaultRateLimit` on any other.
    package var rateLimitPerMinute: Int?
    /// The memory one job may use: a job whose whole result would not fit is written to the data folder a band of
    /// rows at a time (PNG and JPEG results), so `maxOutputPixels` can be raised without raising memory.
    package var memoryPerJob: MemoryBudget = .automatic
    /// Tile size in input pixels (nil: chosen from each model's memory needs, as `superres upscale` does).
    package var tileSize: Int?
    /// The convolution arithmetic of every model (`.bf16` needs a CPU with bfloat16 instructions).
    package var precision: Precision = .fp32
    /// Server name reported in logs.
    package var serverName: String = "superres"
    /// The shared job store (`postgres://…`): jobs, inputs and results in PostgreSQL, taken by workers on any
    /// machine; nil keeps them in this process and its data folder.
    package var store: String?
    /// Seconds a worker's lease on a job lasts without renewal (it renews every third of that).
    package var leaseSeconds: Double = 30
    /// Times a job may be taken before an expired lease fails it for good.
    package var maxAttempts: Int = 3
    /// This node's name among the workers (default: host name and process id).
    package var workerName: String?

    /// The rate limit of a server listening on a non-loopback address when none is set.
    package static let defaultRateLimit = 600

    /// Whether `host` only accepts connections from this machine.
    package static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The rate limit in force: the one set, else none on loopback and `defaultRateLimit` elsewhere.
    package var effectiveRateLimit: Int {
        rateLimitPerMinute ?? (Self.isLoopback(host) ? 0 : Self.defaultRateLimit)
    }

    /// Settings with every default.
    package init() {}

    /// `$XDG_STATE_HOME/superres`, else `~/.local/state/superres`.
    package static var defaultDataDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return state + "/superres" }
        return NSHomeDirectory() + "/.local/state/superres"
    }

    /// The seconds in a duration, as a Double.
    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
