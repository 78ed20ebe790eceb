import ArgumentParser
import Logging
import Server

/// `--log-level` and `--log-format`, shared by `serve` and `worker`.
struct LoggingOptions: ParsableArguments {
    @Option(help: "trace, debug, info, notice, warning, error or critical (default info; env SUPERRES_LOG_LEVEL).")
    var logLevel: String?

    @Option(help: "text or json (default text; env SUPERRES_LOG_FORMAT).")
    var logFormat: String?

    /// Sets up swift-log (text or JSON lines on stderr) from the options, else the environment, and returns the
    /// service's logger.
    func makeLogger(_ environment: [String: String]) throws(ServerStartupError) -> Logger {
        let levelName = try setting(logLevel, "SUPERRES_LOG_LEVEL", environment, { $0 }) ?? "info"
        guard let level = Logger.Level(rawValue: levelName.lowercased()) else {
            throw ServerStartupError("log level \(levelName) is not one of trace, debug, info, notice, warning, error")
        }
        let format = try setting(logFormat, "SUPERRES_LOG_FORMAT", environment, { $0 }) ?? "text"
        switch format.lowercased() {
        case "json":
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        case "text":
            LoggingSystem.bootstrap { label in
                var handler = TextLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        default:
            throw ServerStartupError("log format \(format) is not text or json")
        }
        var logger = Logger(label: "superres")
        logger.logLevel = level
        return logger
    }
}
