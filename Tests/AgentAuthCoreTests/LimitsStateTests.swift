import AgentAuthCore
import Foundation
import Testing

/// What a verifier applies to a request from the limits it knows: tiers of the agent and the
/// credential, used-up quotas until their period ends, and the feed's events after a snapshot.
@Suite("Limits state")
struct LimitsStateTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let tier = RateLimitTier(name: "t", requests: 10, windowSeconds: 60)

    static func snapshot(cursor: Int64 = 10, exhausted: [QuotaExhaustion] = []) -> LimitsSnapshot {
        LimitsSnapshot(
            tiers: ["t": tier],
            agents: ["agt_a": LimitAssignment(rateLimit: "t")],
            keys: ["key_k": LimitAssignment(rateLimit: "t", quota: Quota(requests: 5, period: .day))],
            clients: ["cli_c": LimitAssignment(rateLimit: "unknown-tier")],
            exhausted: exhausted,
            cursor: cursor
        )
    }

    @Test("nothing is limited before a snapshot; then the agent's and the credential's tiers apply")
    func tiersApply() {
        let state = LimitsState()
        let keyRequest = LimitSubject(agentID: "agt_a", credential: .apiKey("key_k"))
        #expect(state.limits(for: keyRequest, now: Self.now).rateLimits.isEmpty)
        state.replace(with: Self.snapshot(), fetchBegan: state.beginFetch())
        #expect(state.limits(for: keyRequest, now: Self.now).rateLimits.map(\.identity) == ["agent agt_a", "credential key_k"])
        let tokenRequest = LimitSubject(agentID: "agt_other", credential: .client("cli_c"))
        #expect(state.limits(for: tokenRequest, now: Self.now).rateLimits.isEmpty, "an undefined tier limits nothing")
    }

    @Test("a used-up quota refuses until its period ends, for the agent or the key it belongs to")
    func quotaEvents() {
        let state = LimitsState()
        state.replace(with: Self.snapshot(), fetchBegan: state.beginFetch())
        let end = Quota.Period.day.end(of: Self.now)
        let reload = state.apply([RevocationEvent(seq: 11, kind: .quota, subject: "key_k", agentID: "agt_a", at: Self.now, expiresAt: end)])
        #expect(!reload)
        let subject = LimitSubject(agentID: "agt_a", credential: .apiKey("key_k"))
        #expect(state.limits(for: subject, now: Self.now).exhaustedUntil == end)
        #expect(state.limits(for: LimitSubject(agentID: "agt_a", credential: .apiKey("key_other")), now: Self.now).exhaustedUntil == nil)
        #expect(state.limits(for: subject, now: end).exhaustedUntil == nil, "the period's end lifts it")
    }

    @Test("a limits event asks for a new snapshot; a used-up quota applied after a fetch began survives it")
    func fetchOrder() {
        let state = LimitsState()
        state.replace(with: Self.snapshot(), fetchBegan: state.beginFetch())
        #expect(state.apply([RevocationEvent(seq: 12, kind: .limits, subject: "t", agentID: nil, at: Self.now)]))
        let subject = LimitSubject(agentID: "agt_a", credential: .apiKey("key_k"))
        let end = Quota.Period.day.end(of: Self.now)
        // A fetch begins, the feed brings a used-up quota, then the fetch (which missed it) lands.
        let began = state.beginFetch()
        state.apply([RevocationEvent(seq: 11, kind: .quota, subject: "key_k", agentID: "agt_a", at: Self.now, expiresAt: end)])
        state.replace(with: Self.snapshot(), fetchBegan: began)
        #expect(state.limits(for: subject, now: Self.now).exhaustedUntil == end, "the snapshot that missed the event does not undo it")
        // A fetch that begins after the event decides (the quota was raised since).
        let later = state.beginFetch()
        state.replace(with: Self.snapshot(), fetchBegan: later)
        #expect(state.limits(for: subject, now: Self.now).exhaustedUntil == nil)
        // A fetch that began earlier but lands last is dropped.
        let stale = QuotaExhaustion(subject: "key_k", agentID: "agt_a", periodStart: Self.now, until: end, quota: 5, used: 5)
        state.replace(with: Self.snapshot(exhausted: [stale]), fetchBegan: began)
        #expect(state.limits(for: subject, now: Self.now).exhaustedUntil == nil, "a fetch that finishes late does not undo a newer one")
    }

    @Test("a tier that could not limit sensibly (zero requests) is left out, never divided by")
    func badTierIgnored() {
        let state = LimitsState()
        var snapshot = Self.snapshot()
        snapshot.tiers["t"] = RateLimitTier(name: "t", requests: 0, windowSeconds: 60)
        state.replace(with: snapshot, fetchBegan: state.beginFetch())
        #expect(state.limits(for: LimitSubject(agentID: "agt_a", credential: .apiKey("key_k")), now: Self.now).rateLimits.isEmpty)
    }

    @Test("quota periods are UTC hours, days and months")
    func periods() {
        let date = ISO8601DateFormatter().date(from: "2026-02-28T23:59:30Z")!
        let iso = ISO8601DateFormatter()
        #expect(iso.string(from: Quota.Period.hour.start(of: date)) == "2026-02-28T23:00:00Z")
        #expect(iso.string(from: Quota.Period.hour.end(of: date)) == "2026-03-01T00:00:00Z")
        #expect(iso.string(from: Quota.Period.day.start(of: date)) == "2026-02-28T00:00:00Z")
        #expect(iso.string(from: Quota.Period.day.end(of: date)) == "2026-03-01T00:00:00Z")
        #expect(iso.string(from: Quota.Period.month.start(of: date)) == "2026-02-01T00:00:00Z")
        #expect(iso.string(from: Quota.Period.month.end(of: date)) == "2026-03-01T00:00:00Z")
    }

    @Test("tier names are tokens: letters first, then letters, digits, '.', '_', '-'")
    func tierNames() {
        for good in ["gold", "tier-1", "a.b_c", String(repeating: "x", count: 64)] { #expect(RateLimitTier.isValidName(good), "\(good)") }
        for bad in ["", "1tier", "with space", "quote\"", "semi;colon", "é", String(repeating: "x", count: 65)] {
            #expect(!RateLimitTier.isValidName(bad), "\(bad)")
        }
    }
}
