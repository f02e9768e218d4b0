import Foundation
import Synchronization

/// One hand-moved clock for the whole system under test: the auth server and the resource
/// server read it as a `Date`, the SDK as a monotonic instant. Moving it moves all of them, so
/// hours of token lifetimes pass in a moment. The SDK's instant stands still between moves, so
/// the lifetimes it computes compare exactly; the servers' date also runs with real time, as the
/// client assertions the SDK signs (their `iat`, from the real time) do: frozen, it fell behind
/// them, and on a loaded machine a test that ran past the 30 s leeway had its assertions refused.
final class SharedClock: Sendable {
    private let startDate = Date()
    private let startInstant = ContinuousClock.now
    private let offset = Mutex(Duration.zero)

    var date: @Sendable () -> Date {
        { self.startDate.addingTimeInterval(self.elapsedSeconds) }
    }

    var instant: @Sendable () -> ContinuousClock.Instant {
        { self.startInstant + self.offset.withLock { $0 } }
    }

    func advance(_ duration: Duration) {
        offset.withLock { $0 += duration }
    }

    private var elapsedSeconds: TimeInterval {
        let components = (ContinuousClock.now - startInstant + offset.withLock { $0 }).components
        return TimeInterval(components.seconds) + TimeInterval(components.attoseconds) / 1e18
    }
}
