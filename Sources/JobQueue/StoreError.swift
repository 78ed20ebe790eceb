import PostgresNIO

/// What went wrong with the shared job store, with a sentence for people.
package struct StoreError: Error, Sendable, CustomStringConvertible {
    /// The kinds of failure.
    package enum Kind: Sendable, Equatable {
        /// The `--store` value is not a usable PostgreSQL URL.
        case badLocation
        /// PostgreSQL could not be reached or answered with an error.
        case unavailable
        /// The database holds a newer schema than this build knows.
        case schemaTooNew
        /// The database answered something this build cannot read.
        case malformed
    }

    /// Which failure this is.
    package let kind: Kind
    /// What happened, for people.
    package let message: String

    /// A failure of `kind` described by `message`.
    package init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// `error` from PostgresNIO (or a timeout) as a store failure, in one line without the query's parameters.
    static func wrapping(_ error: any Error, doing action: String) -> StoreError {
        if let error = error as? StoreError { return error }
        if let error = error as? PSQLError {
            let server = error.serverInfo.map { info in
                [info[.sqlState], info[.message]].compactMap { $0 }.joined(separator: " ")
            }
            return StoreError(.unavailable, "\(action): \(server ?? "\(error.code)")")
        }
        return StoreError(.unavailable, "\(action): \(error)")
    }

    /// The message.
    package var description: String { message }
}
