/// Why an evaluation could not run: a data set, an image or a model that does not fit the protocol.
package struct EvaluationError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure.
    package enum Code: String, Sendable {
        /// The data set folder is missing, unreadable or holds no images.
        case datasetUnreadable
        /// An image cannot go through the protocol (16-bit samples, smaller than the scale).
        case unsupportedImage
        /// A model failed on an image.
        case modelFailed
        /// A `--degrade` specification that cannot be read.
        case unsupportedDegradation
        /// A report, chart or image could not be written.
        case writeFailed
    }

    /// The kind of failure.
    package let code: Code
    /// The file or folder concerned.
    package let source: String
    /// A human-readable reason.
    package let message: String
    /// The error that caused this one, if any.
    package let underlying: (any Error & Sendable)?

    /// An error of kind `code` about `source`.
    package init(_ code: Code, source: String, message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.source = source
        self.message = message
        self.underlying = underlying
    }

    /// "<source>: <message>".
    package var description: String { "\(source): \(message)" }
}
