public import Logging

/// The `--log-format text` handler: the lines swift-log's `StreamLogHandler` writes
/// (`<timestamp> <level> <label>: <key=value …> [<source>] <message>`, metadata sorted by key,
/// to standard error), written for less per line. `StreamLogHandler` formats its metadata again
/// whenever a logger's metadata changes (Hummingbird adds the request id to every request's
/// logger, so once per request, logged or not), formats the date on every line and locks and
/// flushes the stdio stream; this one formats metadata only for a line it writes, reuses the
/// second's timestamp, and writes each line with one `write(2)`.
public struct TextLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    let label: String
    let output: LogLineOutput

    /// A handler writing to standard error, as swift-log's default handler does.
    public static func standardError(label: String, metadataProvider: Logger.MetadataProvider? = nil) -> TextLogHandler {
        TextLogHandler(label: label, metadataProvider: metadataProvider, output: .standardError)
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
        let merged = mergedMetadata(metadata, provider: metadataProvider, event: event)
        var line = LogTimestamp.localSeconds.now()
        line.reserveCapacity(line.utf8.count + label.utf8.count + 48 + merged.count * 24)
        line += " "
        line += event.level.rawValue
        if !label.isEmpty {
            line += " "
            line += label
        }
        line += ":"
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line += " "
            line += key
            line += "="
            line += value.description
        }
        line += " ["
        line += event.source
        line += "] "
        line += event.message.description
        line += "\n"
        output.line(line)
    }
}

/// A line's metadata as swift-log's handlers merge it: the handler's, then its provider's, then
/// the call's (later ones win), and the error's message and type when the call gave one.
func mergedMetadata(_ base: Logger.Metadata, provider: Logger.MetadataProvider?, event: LogEvent) -> Logger.Metadata {
    var merged = base
    if let provided = provider?.get(), !provided.isEmpty { merged.merge(provided) { _, new in new } }
    if let explicit = event.metadata, !explicit.isEmpty { merged.merge(explicit) { _, new in new } }
    if let error = event.error {
        merged["error.message"] = "\(error)"
        merged["error.type"] = "\(String(reflecting: type(of: error)))"
    }
    return merged
}
