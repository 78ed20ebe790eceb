import Foundation
import Logging
import Synchronization

/// A swift-log handler that writes one line per event to standard error, like swift-log's `StreamLogHandler`
/// (`time level label: [key=value …] message`), but with control characters escaped: a value a client chose (an
/// upload's file name, a path) cannot start a line of its own and forge an entry.
package struct TextLogHandler: LogHandler {
    /// The least severe level this handler writes; swift-log drops events below it (default `.info`).
    package var logLevel: Logger.Level = .info
    /// Metadata added as `key=value` pairs to every line this handler writes; event metadata overrides it.
    package var metadata: Logger.Metadata = [:]
    /// Optional source of contextual metadata merged into each line; handler and event metadata override it.
    package var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable (String) -> Void
    private static let output = Mutex(())

    /// A handler for loggers with this label, writing to standard error (or to `write`, for tests).
    package init(label: String, write: (@Sendable (String) -> Void)? = nil) {
        self.label = label
        self.write = write ?? { line in Self.output.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) } }
    }

    /// Reads or sets one entry of the handler-level `metadata`.
    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes the event as one `time level label: [key=value …] message` line, with control characters escaped.
    package func log(event: LogEvent) {
        let fields = Self.fields(of: event, handlerMetadata: metadata, provider: metadataProvider)
        let pairs = fields.keys.sorted().map { "\(Self.escaped($0))=\(Self.escaped(fields[$0]!))" }
        let time = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        let context = pairs.isEmpty ? "" : " " + pairs.joined(separator: " ")
        write("\(time) \(event.level) \(Self.escaped(label)):\(context) \(Self.escaped("\(event.message)"))\n")
    }

    /// `text` with line breaks, tabs and other control characters written as escapes (`\n`, `\u{1B}`).
    static func escaped(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\\": result += "\\\\"
            default:
                if scalar.properties.generalCategory == .control || scalar == "\u{2028}" || scalar == "\u{2029}" {
                    result += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }
}
