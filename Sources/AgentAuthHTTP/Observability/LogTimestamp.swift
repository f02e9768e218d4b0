import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Timestamps of log lines, formatted once per second and reused for every line in that
/// second: formatting a calendar date (and, for local time, consulting the time zone) on every
/// line cost more than writing it.
final class LogTimestamp: Sendable {
    enum Style {
        /// `2026-12-07T21:40:26+0000`, local time: what swift-log's `StreamLogHandler` writes.
        case localSeconds
        /// `2026-12-07T21:40:26.123Z`, UTC with milliseconds (ISO 8601).
        case utcMilliseconds
    }

    let style: Style
    private let cached = Mutex<(second: Int, text: String)>((-1, ""))

    init(_ style: Style) { self.style = style }

    static let localSeconds = LogTimestamp(.localSeconds)
    static let utcMilliseconds = LogTimestamp(.utcMilliseconds)

    /// The current time in this style.
    func now() -> String {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        let second = Int(time.tv_sec)
        let prefix = cached.withLock { cached in
            if cached.second != second { cached = (second, Self.format(second: second, style: style)) }
            return cached.text
        }
        guard style == .utcMilliseconds else { return prefix }
        let milliseconds = Int(time.tv_nsec) / 1_000_000
        let digits = String(milliseconds)
        return prefix + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }

    static func format(second: Int, style: Style) -> String {
        var seconds = time_t(second)
        var parts = tm()
        var buffer = [CChar](repeating: 0, count: 64)
        switch style {
        case .localSeconds:
            localtime_r(&seconds, &parts)
            strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        case .utcMilliseconds:
            gmtime_r(&seconds, &parts)
            strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S", &parts)
        }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
