public import Foundation
import Synchronization

/// Counts authentication failures per key (a client at an address, an address) in fixed
/// one-minute windows; a key with more than `limit` failures in its window is over the limit
/// until the window ends (SECURITY-CASES 11). In memory, per node: each node protects itself.
public final class FailureLimiter: Sendable {
    struct Window {
        var start: Date
        var failures: Int
    }

    let limit: Int
    let window: TimeInterval
    let now: @Sendable () -> Date
    private let windows = Mutex<[String: Window]>([:])
    /// Bound on tracked keys so that a flood of distinct keys can't grow memory without limit.
    static let maxTrackedKeys = 100_000

    public init(limit: Int, window: TimeInterval = 60, now: @escaping @Sendable () -> Date = Date.init) {
        self.limit = limit
        self.window = window
        self.now = now
    }

    /// How many keys are tracked now (diagnostics and tests: it must not grow per presented id).
    public var trackedKeyCount: Int { windows.withLock { $0.count } }

    /// Seconds until `key` may try again, or `nil` when it is not blocked.
    public func retryAfter(_ key: String) -> Int? {
        let now = self.now()
        return windows.withLock { windows in
            guard let current = windows[key], now.timeIntervalSince(current.start) < window, current.failures > limit else { return nil }
            return max(1, Int((window - now.timeIntervalSince(current.start)).rounded(.up)))
        }
    }

    public func recordFailure(_ key: String) {
        let now = self.now()
        windows.withLock { windows in
            if windows.count >= Self.maxTrackedKeys {
                windows = windows.filter { now.timeIntervalSince($0.value.start) < window }
                if windows.count >= Self.maxTrackedKeys { windows.removeAll(keepingCapacity: true) }
            }
            if let current = windows[key], now.timeIntervalSince(current.start) < window {
                windows[key]?.failures = current.failures + 1
            } else {
                windows[key] = Window(start: now, failures: 1)
            }
        }
    }
}
