import Foundation
public import Logging
import Synchronization

/// A swift-log handler that writes one JSON object per line (`--log-format json`), for log
/// collectors that parse lines. swift-log ships only `StreamLogHandler` (plain text), and none
/// of the libraries this project depends on has a JSON handler, so this small one is ours.
///
/// Each line has `timestamp` (ISO 8601, UTC), `level`, `label`, `message`, and every metadata
/// key (the logger's, its provider's, the call's) at the top level as a string; keys that would
/// clash with those fields are prefixed with `metadata.`.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    let label: String
    let output: Output

    /// Where lines go; one lock per stream keeps lines from several threads whole.
    final class Output: Sendable {
        let write: @Sendable (String) -> Void
        private let lock = Mutex(())

        init(write: @escaping @Sendable (String) -> Void) { self.write = write }

        func line(_ text: String) { lock.withLock { _ in write(text) } }

        static let standardError = Output { text in FileHandle.standardError.write(Data(text.utf8)) }
    }

    /// A handler writing to standard error, as swift-log's default handler does.
    public static func standardError(label: String, metadataProvider: Logger.MetadataProvider? = nil) -> JSONLogHandler {
        JSONLogHandler(label: label, metadataProvider: metadataProvider, output: .standardError)
    }

    /// A handler handing each line (with its newline) to `write`: for tests that read the logs.
    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil, write: @escaping @Sendable (String) -> Void) {
        self.init(label: label, metadataProvider: metadataProvider, output: Output(write: write))
    }

    init(label: String, metadataProvider: Logger.MetadataProvider?, output: Output) {
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
        var fields: [String: String] = [:]
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        for (key, value) in merged {
            fields[Self.reserved.contains(key) ? "metadata.\(key)" : key] = value.description
        }
        fields["timestamp"] = Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(Date())
        fields["level"] = event.level.rawValue
        fields["label"] = label
        fields["message"] = event.message.description
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(fields) else { return }
        output.line(String(decoding: data, as: UTF8.self) + "\n")
    }
}
