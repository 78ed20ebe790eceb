/// Why `superres serve` could not start; printed as one line on standard error.
package struct ServerStartupError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, naming the file or setting.
    package let description: String

    /// An error saying `message`.
    package init(_ message: String) { description = message }
}
