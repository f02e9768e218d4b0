import Foundation
import Logging
import Synchronization

/// Keeps every log line (message and metadata) so tests can check that no secret is ever logged.
struct RecordingLogHandler: LogHandler {
    final class Storage: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    let storage: Storage
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        storage.append("\(event.level) \(event.message) \(merged)")
    }
}
