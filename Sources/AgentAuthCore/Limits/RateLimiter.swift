import Synchronization

/// Per-identity rate limiting with the generic cell rate algorithm (GCRA): each identity is one
/// number, its theoretical arrival time (TAT), so the state is O(1) per identity whatever the
/// tier, and a request costs one lock and a dictionary lookup per limit. An identity whose TAT
/// has passed is exactly as if it had never been seen, so such entries are dropped whenever the
/// table has doubled since the last sweep: idle identities cost nothing, and a sweep's cost is
/// paid back by the insertions before it (amortised O(1)).
///
/// Written here rather than taken from a library: none of the packages available does GCRA over
/// an injectable clock with the all-or-nothing check of several limits that a request against an
/// agent's and a credential's tier needs.
public final class RateLimiter: Sendable {
    /// One limit a request must pass: an identity (agent, key or client, namespaced by the
    /// caller) and its tier.
    public struct Limit: Sendable {
        public var identity: String
        public var tier: RateLimitTier

        public init(identity: String, tier: RateLimitTier) {
            self.identity = identity
            self.tier = tier
        }
    }

    /// Where one limit stands after a request: what `RateLimit-Policy` and `RateLimit` report.
    public struct Standing: Hashable, Sendable {
        public var tier: RateLimitTier
        /// Requests that may still be made at once (`r`).
        public var remaining: Int
        /// Seconds until the full burst is available again (`t`), rounded up.
        public var resetSeconds: Int
    }

    public struct Decision: Sendable {
        /// Whether the request may go on; when not, nothing was charged to any limit.
        public var allowed: Bool
        /// When refused: seconds until the request would pass, rounded up, at least 1.
        public var retryAfterSeconds: Int
        public var standings: [Standing]
    }

    struct State {
        var arrivals: [String: Double] = [:]
        var sweepAt: Int
    }

    private let state: Mutex<State>
    let minimumSweepSize: Int
    let now: @Sendable () -> Double

    /// - Parameters:
    ///   - now: seconds on a monotonic clock (tests move it by hand).
    ///   - minimumSweepSize: the table size below which idle entries are not swept.
    public init(minimumSweepSize: Int = 4096, now: (@Sendable () -> Double)? = nil) {
        self.minimumSweepSize = minimumSweepSize
        self.state = Mutex(State(sweepAt: minimumSweepSize))
        if let now {
            self.now = now
        } else {
            let start = ContinuousClock.now
            self.now = { (ContinuousClock.now - start) / .seconds(1) }
        }
    }

    /// Identities currently holding state (recently active ones, and idle ones not yet swept).
    public var trackedIdentities: Int { state.withLock { $0.arrivals.count } }

    /// Charges one request to every limit, or to none when any of them refuses it.
    public func acquire(_ limits: [Limit]) -> Decision {
        let now = self.now()
        return state.withLock { state in
            var allowed = true
            var retryAfter = 0.0
            var arrivals: [Double] = []
            arrivals.reserveCapacity(limits.count)
            for limit in limits {
                let interval = limit.tier.emissionInterval
                let tolerance = Double(limit.tier.burst) * interval
                // Clamped to the current tier's tolerance: state left by an earlier, slower tier
                // (a tier changed or reassigned) never holds the identity back longer than this one would.
                let stored = state.arrivals[limit.identity] ?? now
                let arrival = min(max(stored, now), now + tolerance)
                if arrival < stored { state.arrivals[limit.identity] = arrival }
                let next = arrival + interval
                if next - now > tolerance + 1e-9 {
                    allowed = false
                    retryAfter = max(retryAfter, next - now - tolerance)
                }
                arrivals.append(arrival)
            }
            var standings: [Standing] = []
            standings.reserveCapacity(limits.count)
            for (limit, arrival) in zip(limits, arrivals) {
                let settled = allowed ? arrival + limit.tier.emissionInterval : arrival
                if allowed { state.arrivals[limit.identity] = settled }
                standings.append(Self.standing(limit.tier, settled: settled, now: now))
            }
            if allowed, state.arrivals.count >= state.sweepAt {
                state.arrivals = state.arrivals.filter { $0.value > now }
                state.sweepAt = max(minimumSweepSize, 2 * state.arrivals.count)
            }
            return Decision(allowed: allowed, retryAfterSeconds: allowed ? 0 : max(1, Self.seconds(retryAfter)), standings: standings)
        }
    }

    /// Where each limit stands now, charging nothing: what a request refused before the tiers
    /// were asked (a used-up quota) reports.
    public func standings(_ limits: [Limit]) -> [Standing] {
        let now = self.now()
        return state.withLock { state in
            limits.map { limit in
                let tolerance = Double(limit.tier.burst) * limit.tier.emissionInterval
                let arrival = min(max(state.arrivals[limit.identity] ?? now, now), now + tolerance)
                return Self.standing(limit.tier, settled: arrival, now: now)
            }
        }
    }

    /// A tier's standing once its next free slot is at `settled`.
    static func standing(_ tier: RateLimitTier, settled: Double, now: Double) -> Standing {
        let interval = tier.emissionInterval
        let tolerance = Double(tier.burst) * interval
        // The small margin absorbs rounding in the sums above (60 − 30.000000001 is still two 30 s slots).
        let remaining = max(0, Int(((tolerance - (settled - now)) / interval + 1e-9).rounded(.down)))
        return Standing(tier: tier, remaining: remaining, resetSeconds: seconds(settled - now))
    }

    /// Whole seconds, rounded up, tolerating the rounding error of the sums above.
    static func seconds(_ value: Double) -> Int {
        max(0, Int((value - 1e-9).rounded(.up)))
    }
}
