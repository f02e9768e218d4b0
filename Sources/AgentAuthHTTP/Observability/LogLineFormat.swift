public import Logging

/// How a `LineLogHandler` writes one event.
public protocol LogLineFormat: Sendable {
    /// The event as one line, with its newline; `metadata` is the event's merged metadata.
    static func line(label: String, event: LogEvent, metadata: Logger.Metadata) -> String
}
