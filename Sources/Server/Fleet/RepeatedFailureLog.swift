import Logging

/// The failures of a call that a background loop retries (the heartbeat, the taking of jobs, the sweep): a store
/// that is away fails every try, so a failure is logged once, and again only after the call has succeeded.
struct RepeatedFailureLog {
    /// What the warning says.
    let message: Logger.Message
    let logger: Logger
    /// Whether a failure has been logged since the last success.
    private var reported = false

    init(_ message: Logger.Message, logger: Logger) {
        self.message = message
        self.logger = logger
    }

    /// The call succeeded: its next failure is logged.
    mutating func succeeded() {
        reported = false
    }

    /// The call failed with `error`: a warning, unless one was logged since the last success.
    mutating func failed(_ error: any Error) {
        if !reported { logger.warning(message, metadata: ["error": "\(error)"]) }
        reported = true
    }
}
