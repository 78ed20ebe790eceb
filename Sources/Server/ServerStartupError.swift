/// Why `superres serve` could not start; printed as one line on standard error.
public struct ServerStartupError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, naming the file or setting.
    public let description: String

    /// An error saying `message`.
    public init(_ message: String) { description = message }
}
