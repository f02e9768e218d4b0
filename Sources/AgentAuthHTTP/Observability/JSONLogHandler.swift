public import Logging

/// A swift-log handler that writes one JSON object per line (`--log-format json`), for log
/// collectors that parse lines. swift-log ships only `StreamLogHandler` (plain text), and none
/// of the libraries this project depends on has a JSON handler, so this small one is ours.
///
/// Each line has `timestamp` (ISO 8601, UTC, milliseconds), `level`, `label`, `message`, and
/// every metadata key (the logger's, its provider's, the call's) at the top level as a string;
/// keys that would clash with those fields are prefixed with `metadata.`. Keys are sorted. The
/// object is written directly rather than through `JSONEncoder` (a request line is written for
/// every request, and the encoder's set-up and the date formatter cost more than the line).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    let label: String
    let output: LogLineOutput

    /// A handler writing to standard error, as swift-log's default handler does.
    public static func standardError(label: String, metadataProvider: Logger.MetadataProvider? = nil) -> JSONLogHandler {
        JSONLogHandler(label: label, metadataProvider: metadataProvider, output: .standardError)
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

    static let reserved: Set<String> = ["timestamp", "level", "label", "message"]

    public func log(event: LogEvent) {
        var fields: [(key: String, value: String)] = []
        let merged = mergedMetadata(metadata, provider: metadataProvider, event: event)
        fields.reserveCapacity(merged.count + 4)
        for (key, value) in merged {
            fields.append((Self.reserved.contains(key) ? "metadata.\(key)" : key, value.description))
        }
        fields.append(("timestamp", LogTimestamp.utcMilliseconds.now()))
        fields.append(("level", event.level.rawValue))
        fields.append(("label", label))
        fields.append(("message", event.message.description))
        fields.sort { $0.key < $1.key }
        var line = "{"
        line.reserveCapacity(fields.reduce(8) { $0 + $1.key.utf8.count + $1.value.utf8.count + 6 })
        for (index, field) in fields.enumerated() {
            if index > 0 { line += "," }
            Self.appendQuoted(field.key, to: &line)
            line += ":"
            Self.appendQuoted(field.value, to: &line)
        }
        line += "}\n"
        output.line(line)
    }

    /// `text` as a JSON string (RFC 8259 §7): quotes, backslashes and control characters
    /// escaped, everything else (slashes and non-ASCII included) as it is.
    static func appendQuoted(_ text: String, to line: inout String) {
        line += "\""
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
            line += text
            line += "\""
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": line += "\\\""
            case "\\": line += "\\\\"
            case "\n": line += "\\n"
            case "\r": line += "\\r"
            case "\t": line += "\\t"
            case "\u{08}": line += "\\b"
            case "\u{0C}": line += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                line += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: line.unicodeScalars.append(scalar)
            }
        }
        line += "\""
    }
}
