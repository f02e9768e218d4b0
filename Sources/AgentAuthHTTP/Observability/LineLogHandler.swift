public import Logging

/// A swift-log handler that writes each event as one line in `Format`, to standard error or to a
/// closure (tests). `TextLogHandler` and `JSONLogHandler` (`--log-format text` and `json`) are
/// its two formats.
///
/// A request line is written for every request, so the per-line work is kept small: metadata is
/// merged and formatted only for a line that is written, timestamps are formatted once per second
/// (`LogTimestamp`), and each line goes out in one `write(2)` (`LogLineOutput`).
public struct LineLogHandler<Format: LogLineFormat>: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    let label: String
    let output: LogLineOutput

    /// A handler writing to standard error, as swift-log's default handler does.
    public static func standardError(label: String, metadataProvider: Logger.MetadataProvider? = nil) -> Self {
        Self(label: label, metadataProvider: metadataProvider, output: .standardError)
    }

    /// A handler handing each line (with its newline) to `write`: for tests that read the logs.
    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil, write: @escaping @Sendable (String) -> Void) {
        self.init(label: label, metadataProvider: metadataProvider, output: LogLineOutput(write: write))
    }

    init(label: String, metadataProvider: Logger.MetadataProvider?, output: LogLineOutput) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // Merged as swift-log's handlers merge: the handler's, then its provider's, then the
        // call's (later ones win), and the error's message and type when the call gave one.
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata, !explicit.isEmpty { merged.merge(explicit) { _, new in new } }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        output.line(Format.line(label: label, event: event, metadata: merged))
    }
}
