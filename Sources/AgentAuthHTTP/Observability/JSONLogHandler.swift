public import Logging

/// A swift-log handler that writes one JSON object per line (`--log-format json`), for log
/// collectors that parse lines. swift-log ships only `StreamLogHandler` (plain text), and none
/// of the libraries this project depends on has a JSON handler, so this small one is ours.
public typealias JSONLogHandler = LineLogHandler<JSONLineFormat>

/// One JSON object: `timestamp` (ISO 8601, UTC, milliseconds), `level`, `label`, `message`, and
/// every metadata key at the top level as a string; keys that would clash with those fields are
/// prefixed with `metadata.`. Keys are sorted. The object is written directly rather than
/// through `JSONEncoder`, whose set-up and date formatter cost more than the line.
public enum JSONLineFormat: LogLineFormat {
    static let reserved: Set<String> = ["timestamp", "level", "label", "message"]

    public static func line(label: String, event: LogEvent, metadata: Logger.Metadata) -> String {
        var fields: [(key: String, value: String)] = []
        fields.reserveCapacity(metadata.count + 4)
        for (key, value) in metadata {
            fields.append((reserved.contains(key) ? "metadata.\(key)" : key, value.description))
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
            appendQuoted(field.key, to: &line)
            line += ":"
            appendQuoted(field.value, to: &line)
        }
        line += "}\n"
        return line
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
