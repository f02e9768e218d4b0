import AgentAuthHTTP
import Foundation
import Logging
import Synchronization
import Testing

/// The log handlers behind `--log-format`: `TextLogHandler` writes what swift-log's
/// `StreamLogHandler` writes, and `JSONLogHandler` writes one JSON object per line whatever the
/// message and metadata hold.
@Suite("Log handlers")
struct LogHandlerTests {
    final class Lines: TextOutputStream, Sendable {
        private let lines = Mutex<[String]>([])
        func write(_ string: String) { lines.withLock { $0.append(string) } }
        var all: [String] { lines.withLock { $0 } }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String { "the store went away" }
    }

    /// A line without its leading timestamp (up to the first space): the two handlers may write
    /// their lines in different seconds.
    static func withoutTimestamp(_ line: String) -> Substring {
        line[line.firstIndex(of: " ")!...]
    }

    @Test("text lines are StreamLogHandler's: level, label, sorted metadata from logger, provider and call, source, message, error")
    func textMatchesStreamLogHandler() throws {
        let provider = Logger.MetadataProvider { ["trace_id": "4bf92f35"] }
        let ours = Lines()
        let theirs = Lines()
        var text = Logger(label: "agentauth") { label in TextLogHandler(label: label, metadataProvider: provider) { ours.write($0) } }
        var stream = Logger(label: "agentauth") { label in StreamLogHandler(label: label, stream: theirs, metadataProvider: provider) }
        for index in [0, 1] {
            var logger = index == 0 ? text : stream
            logger.logLevel = .debug
            logger[metadataKey: "hb.request.id"] = "8d4c"
            logger.info("request", metadata: ["route": "/v1/conversations", "status": .stringConvertible(200), "agent_id": "agt_1"])
            logger.debug("plain")
            logger.trace("below the level")
            logger.error("failed", error: Failure(), metadata: ["nested": ["a": "b"], "list": ["x", "y"]])
            if index == 0 { text = logger } else { stream = logger }
        }
        #expect(ours.all.count == 3)
        #expect(ours.all.count == theirs.all.count)
        for (mine, reference) in zip(ours.all, theirs.all) {
            #expect(Self.withoutTimestamp(mine) == Self.withoutTimestamp(reference))
        }
        let first = try #require(ours.all.first)
        #expect(first.hasSuffix("request\n"))
        // 2026-12-07T21:40:26+0000: the date part of StreamLogHandler's stamp, local time with its offset.
        let stamp = String(first.prefix { $0 != " " })
        #expect(stamp.count == 24 && stamp.dropFirst(10).first == "T", "\(stamp)")
    }

    @Test("JSON lines parse back to the same strings: quotes, backslashes, newlines, control characters, slashes, non-ASCII; reserved keys prefixed")
    func jsonEscapesEverything() throws {
        let lines = Lines()
        var logger = Logger(label: "agentauth") { label in JSONLogHandler(label: label) { lines.write($0) } }
        let awkward = "a \"quoted\" back\\slash\nnew line\ttab\r\u{01}\u{1F} /path/ é ✓ 🦆"
        logger[metadataKey: "level"] = "not the level"
        logger.warning("\(awkward)", metadata: ["odd": .string(awkward), "count": .stringConvertible(3)])
        let line = try #require(lines.all.first)
        #expect(lines.all.count == 1 && line.hasSuffix("}\n") && line.filter { $0 == "\n" }.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["message"] == awkward)
        #expect(object["odd"] == awkward)
        #expect(object["count"] == "3")
        #expect(object["level"] == "warning")
        #expect(object["metadata.level"] == "not the level")
        #expect(object["label"] == "agentauth")
        // 2026-12-07T21:40:26.123Z
        let timestamp = try #require(object["timestamp"])
        #expect(timestamp.count == 24 && timestamp.hasSuffix("Z"), "\(timestamp)")
        let parsed = try Date(timestamp, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        #expect(abs(parsed.timeIntervalSinceNow) < 5)
        let keys = line.split(separator: ",").compactMap { $0.split(separator: ":").first }.map { String($0.drop { $0 == "{" }) }
        #expect(keys.first == "\"count\"", "keys are sorted: \(line)")
    }
}
