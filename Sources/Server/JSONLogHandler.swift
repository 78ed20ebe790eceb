import Foundation
import Logging
import Synchronization

/// A swift-log handler that writes one JSON object per line to standard error (for log collectors):
/// `{"time":…,"level":…,"label":…,"message":…,"request.id":…,…}`.
package struct JSONLogHandler: LogHandler {
    /// The least severe level this handler writes; swift-log drops events below it (default `.info`).
    package var logLevel: Logger.Level = .info
    /// Metadata attached to every line this handler writes; event metadata overrides it.
    package var metadata: Logger.Metadata = [:]
    /// Optional source of contextual metadata merged into each line; handler and event metadata override it.
    package var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private static let output = Mutex(())

    /// A handler for loggers with this label.
    package init(label: String) {
        self.label = label
    }

    /// Reads or sets one entry of the handler-level `metadata`.
    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes the event as one JSON line to standard error, with `hb.request.id` renamed to `request.id`.
    package func log(event: LogEvent) {
        var fields = Self.fields(of: event, handlerMetadata: metadata, provider: metadataProvider)
        // `hb.request.id` is Hummingbird's name for the request id.
        if let id = fields.removeValue(forKey: "hb.request.id") { fields["request.id"] = id }
        fields["time"] = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        fields["level"] = event.level.rawValue
        fields["label"] = label
        fields["message"] = "\(event.message)"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard var line = try? encoder.encode(fields) else { return }
        line.append(0x0A)
        Self.output.withLock { _ in FileHandle.standardError.write(line) }
    }
}

extension LogHandler {
    /// An event's metadata as text, merged from the provider, the handler and the event (later ones win).
    static func fields(
        of event: LogEvent,
        handlerMetadata: Logger.Metadata,
        provider: Logger.MetadataProvider?
    ) -> [String: String] {
        var fields: [String: String] = [:]
        for (key, value) in provider?.get() ?? [:] { fields[key] = "\(value)" }
        for (key, value) in handlerMetadata { fields[key] = "\(value)" }
        for (key, value) in event.metadata ?? [:] { fields[key] = "\(value)" }
        return fields
    }
}
