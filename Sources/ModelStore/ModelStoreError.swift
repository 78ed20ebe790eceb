/// Why a catalogue model could not be found, fetched, verified or installed.
///
/// Kept apart from `ModelError` (which is about reading a model file) because its failures come from the network,
/// the file system and helper tools, and each carries what the user can do about it.
package struct ModelStoreError: Error, CustomStringConvertible, Sendable {
    /// The kinds of failure: unknown or missing model, network, bad response, size/checksum, tool, file system.
    package enum Code: String, Sendable {
        /// The name is not in the catalogue.
        case unknownModel
        /// The model is in the catalogue but not in the store.
        case notInstalled
        /// The download could not start or broke off (offline, refused, timed out, dropped).
        case network
        /// The server answered, but not with the file (an HTTP error status).
        case badResponse
        /// The file is not the size the catalogue says.
        case sizeMismatch
        /// The file's checksum differs from the catalogue's.
        case checksumMismatch
        /// A helper program (python3 with pip, unzip) is not installed.
        case toolMissing
        /// A helper program ran and failed.
        case toolFailed
        /// The store folder or a file in it could not be created, read, written or renamed.
        case fileSystem
    }

    /// What kind of failure this is.
    package let code: Code
    /// The model name (or file) concerned.
    package let model: String
    /// What went wrong.
    package let message: String
    /// What the user can do about it (several lines at most), if there is something to say.
    package let remedy: String?
    /// The error that caused this one, if any.
    package let underlying: (any Error)?

    /// An error of this kind about `model`, with an optional remedy for the user and the error that caused it.
    package init(_ code: Code, model: String, _ message: String, remedy: String? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.model = model
        self.message = message
        self.remedy = remedy
        self.underlying = underlying
    }

    /// The same error with `remedy` in place of the current one.
    func with(remedy: String?) -> ModelStoreError {
        ModelStoreError(code, model: model, message, remedy: remedy, underlying: underlying)
    }

    /// The error for the user: `model: message`, the underlying error in parentheses, then the remedy on new lines.
    package var description: String {
        var text = "\(model): \(message)"
        if let underlying { text += " (\(underlying))" }
        if let remedy { text += "\n" + remedy }
        return text
    }
}
