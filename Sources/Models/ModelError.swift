import Engine

/// Why a model file could not be loaded or used.
package struct ModelError: Error, CustomStringConvertible, Sendable {
    /// The kinds of failure: unreadable or malformed file, unsupported graph, wrong family/scale, unusable precision.
    package enum Code: String, Sendable {
        /// The file could not be read.
        case unreadable
        /// The bytes are not a valid model file (truncated, garbled).
        case malformed
        /// The graph uses an operation superres does not implement.
        case unsupportedOperation
        /// An operation's attributes or inputs are outside what superres supports.
        case unsupportedAttribute
        /// The graph is not a single-input image-to-image network.
        case notSuperResolution
        /// The family or scale the user stated does not fit the file.
        case mismatch
        /// The precision asked for needs instructions this CPU lacks.
        case unsupportedPrecision
    }

    /// What kind of failure this is.
    package let code: Code
    /// The model file (or a short name).
    package let source: String
    /// The node concerned, if any.
    package let node: String?
    /// What went wrong, in words for the user.
    package let message: String

    /// An error of this kind about the model file `source` (and `node` in its graph, if any).
    package init(_ code: Code, source: String, node: String? = nil, _ message: String) {
        self.code = code
        self.source = source
        self.node = node
        self.message = message
    }

    /// The error as one line: `source: node 'name': message`, or `source: message` without a node.
    package var description: String {
        if let node { return "\(source): node '\(node)': \(message)" }
        return "\(source): \(message)"
    }
}
