public import Logging

/// The `--log-format text` handler: the lines swift-log's `StreamLogHandler` writes, for less
/// per line (`LineLogHandler`). `StreamLogHandler` formats its metadata again whenever a
/// logger's metadata changes (Hummingbird sets the request id on every request's logger, so once
/// per request, logged or not), formats the date on every line, and locks and flushes the stdio
/// stream for each.
public typealias TextLogHandler = LineLogHandler<TextLineFormat>

/// `<timestamp> <level> <label>: <key=value …> [<source>] <message>`, metadata sorted by key and
/// the timestamp in local time (`2026-12-07T21:40:26+0000`): `StreamLogHandler`'s line.
public enum TextLineFormat: LogLineFormat {
    public static func line(label: String, event: LogEvent, metadata: Logger.Metadata) -> String {
        var line = LogTimestamp.localSeconds.now()
        line.reserveCapacity(line.utf8.count + label.utf8.count + 48 + metadata.count * 24)
        line += " "
        line += event.level.rawValue
        if !label.isEmpty {
            line += " "
            line += label
        }
        line += ":"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
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
        return line
    }
}
