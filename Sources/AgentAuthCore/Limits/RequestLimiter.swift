public import Foundation

/// Decides whether a request may go on: refused while a quota of its agent or key is used up
/// (until the period ends), else charged to the agent's and the credential's tiers together
/// (`RateLimiter`). Each process has its own rate-limit state (a tier is per verifier process);
/// quotas are fleet-wide, through the auth server.
public final class RequestLimiter: Sendable {
    public let state: LimitsState
    let rates: RateLimiter
    /// Wall-clock time, for quota periods (which end at calendar boundaries).
    let now: @Sendable () -> Date

    public init(state: LimitsState = LimitsState(), rates: RateLimiter = RateLimiter(), now: @escaping @Sendable () -> Date = Date.init) {
        self.state = state
        self.rates = rates
        self.now = now
    }

    /// Identities holding rate-limit state now.
    public var trackedIdentities: Int { rates.trackedIdentities }

    public func admit(_ subject: LimitSubject) -> LimitDecision {
        let now = self.now()
        let (rateLimits, exhaustedUntil, exhaustedQuota) = state.limits(for: subject, now: now)
        if let exhaustedUntil {
            let seconds = max(1, Int(exhaustedUntil.timeIntervalSince(now).rounded(.up)))
            let quota = exhaustedQuota.map { quota in
                LimitDecision.QuotaStanding(
                    name: "quota:" + quota.period.rawValue,
                    requests: quota.requests,
                    windowSeconds: Int(quota.period.end(of: now).timeIntervalSince(quota.period.start(of: now)).rounded()),
                    resetSeconds: seconds
                )
            }
            return LimitDecision(
                allowed: false,
                retryAfterSeconds: seconds,
                standings: rates.standings(rateLimits),
                quotaExhaustedUntil: exhaustedUntil,
                quota: quota
            )
        }
        if rateLimits.isEmpty { return LimitDecision(allowed: true, retryAfterSeconds: 0, standings: [], quotaExhaustedUntil: nil) }
        let decision = rates.acquire(rateLimits)
        return LimitDecision(
            allowed: decision.allowed,
            retryAfterSeconds: decision.retryAfterSeconds,
            standings: decision.standings,
            quotaExhaustedUntil: nil
        )
    }
}

/// The answer for one request.
public struct LimitDecision: Sendable {
    public var allowed: Bool
    /// When refused: whole seconds until it would be allowed, at least 1.
    public var retryAfterSeconds: Int
    /// Where each applicable tier stands (empty when none applies): what the `RateLimit-Policy`
    /// and `RateLimit` header fields report.
    public var standings: [RateLimiter.Standing]
    /// When refused because a quota is used up: when its period ends.
    public var quotaExhaustedUntil: Date?
    /// The used-up quota, as the fields report it (nil when none is, or when the limits known
    /// here no longer assign the quota the exhaustion came from).
    public var quota: QuotaStanding?

    init(allowed: Bool, retryAfterSeconds: Int, standings: [RateLimiter.Standing], quotaExhaustedUntil: Date?, quota: QuotaStanding? = nil) {
        self.allowed = allowed
        self.retryAfterSeconds = retryAfterSeconds
        self.standings = standings
        self.quotaExhaustedUntil = quotaExhaustedUntil
        self.quota = quota
    }

    /// A used-up quota: `requests` per period of `windowSeconds` (this period's length: a month
    /// has 28 to 31 days), served again in `resetSeconds`.
    public struct QuotaStanding: Hashable, Sendable {
        /// `quota:hour`, `quota:day` or `quota:month`: never a tier's name, which has no `:`.
        public var name: String
        public var requests: Int
        public var windowSeconds: Int
        public var resetSeconds: Int
    }
}
