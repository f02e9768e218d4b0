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
        let (rateLimits, exhaustedUntil) = state.limits(for: subject, now: now)
        if let exhaustedUntil {
            let seconds = max(1, Int(exhaustedUntil.timeIntervalSince(now).rounded(.up)))
            return LimitDecision(allowed: false, retryAfterSeconds: seconds, standings: [], quotaExhaustedUntil: exhaustedUntil)
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
}
