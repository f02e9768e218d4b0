import AgentAuthCore
import Foundation
import Synchronization
import Testing

/// GCRA per identity, on a clock moved by hand: bursts, the refill rate, the all-or-nothing check
/// of an agent's and a credential's tier, the reported standings, and memory that stays bounded
/// however many identities pass through.
@Suite("Rate limiter (GCRA)")
struct RateLimiterTests {
    final class HandClock: Sendable {
        let seconds = Mutex<Double>(1000)
        func advance(_ by: Double) { seconds.withLock { $0 += by } }
        var now: @Sendable () -> Double { { self.seconds.withLock { $0 } } }
    }

    static let tenPerMinute = RateLimitTier(name: "ten", requests: 10, windowSeconds: 60)

    @Test("a burst passes up to the tier's burst, the next is refused with the exact wait")
    func burstThenRefusal() {
        let clock = HandClock()
        let limiter = RateLimiter(now: clock.now)
        let limit = RateLimiter.Limit(identity: "agent a", tier: Self.tenPerMinute)
        for expectedRemaining in (0..<10).reversed() {
            let decision = limiter.acquire([limit])
            #expect(decision.allowed)
            #expect(decision.standings.first?.remaining == expectedRemaining)
        }
        let refused = limiter.acquire([limit])
        #expect(!refused.allowed)
        // One request is earned back every 6 s.
        #expect(refused.retryAfterSeconds == 6)
        #expect(refused.standings.first?.remaining == 0)
        #expect(refused.standings.first?.resetSeconds == 60)
    }

    @Test("standings report where each limit stands and charge nothing")
    func standingsChargeNothing() {
        let clock = HandClock()
        let limiter = RateLimiter(now: clock.now)
        let limit = RateLimiter.Limit(identity: "agent a", tier: Self.tenPerMinute)
        let fresh = limiter.standings([limit])
        #expect(fresh.count == 1 && fresh.first?.remaining == 10 && fresh.first?.resetSeconds == 0)
        for _ in 0..<3 { _ = limiter.acquire([limit]) }
        for _ in 0..<5 { #expect(limiter.standings([limit]).first?.remaining == 7) }
        #expect(limiter.standings([limit]).first?.resetSeconds == 18)
        #expect(limiter.acquire([limit]).standings.first?.remaining == 6, "the looks cost nothing")
    }

    @Test("capacity returns at the stated rate: one request per window/requests seconds")
    func refillRate() {
        let clock = HandClock()
        let limiter = RateLimiter(now: clock.now)
        let limit = RateLimiter.Limit(identity: "key k", tier: Self.tenPerMinute)
        for _ in 0..<10 { #expect(limiter.acquire([limit]).allowed) }
        clock.advance(5.9)
        #expect(!limiter.acquire([limit]).allowed, "5.9 s is not yet one interval")
        clock.advance(0.1)
        #expect(limiter.acquire([limit]).allowed, "6 s earns exactly one request")
        #expect(!limiter.acquire([limit]).allowed)
        clock.advance(30)
        for _ in 0..<5 { #expect(limiter.acquire([limit]).allowed) }
        #expect(!limiter.acquire([limit]).allowed, "30 s earns five")
        clock.advance(600)
        let rested = limiter.acquire([limit])
        #expect(rested.allowed && rested.standings.first?.remaining == 9, "a long rest refills the burst, no more")
    }

    @Test("a burst smaller than the rate allows fewer at once, the same average")
    func explicitBurst() {
        let clock = HandClock()
        let limiter = RateLimiter(now: clock.now)
        let limit = RateLimiter.Limit(identity: "agent b", tier: RateLimitTier(name: "smooth", requests: 60, windowSeconds: 60, burst: 3))
        for _ in 0..<3 { #expect(limiter.acquire([limit]).allowed) }
        let refused = limiter.acquire([limit])
        #expect(!refused.allowed && refused.retryAfterSeconds == 1)
        clock.advance(1)
        #expect(limiter.acquire([limit]).allowed)
    }

    @Test("an agent's tier and a key's tier both apply; a refusal charges neither")
    func bothLimitsApply() {
        let clock = HandClock()
        let limiter = RateLimiter(now: clock.now)
        let agent = RateLimiter.Limit(identity: "agent a", tier: RateLimitTier(name: "agent", requests: 5, windowSeconds: 60))
        let keyOne = RateLimiter.Limit(identity: "credential k1", tier: RateLimitTier(name: "key", requests: 3, windowSeconds: 60))
        let keyTwo = RateLimiter.Limit(identity: "credential k2", tier: RateLimitTier(name: "key", requests: 3, windowSeconds: 60))
        for _ in 0..<3 { #expect(limiter.acquire([agent, keyOne]).allowed) }
        let keyRefused = limiter.acquire([agent, keyOne])
        #expect(!keyRefused.allowed, "the key's tier is used up")
        #expect(keyRefused.standings.map(\.remaining) == [2, 0], "the agent was not charged for the refused request")
        #expect(limiter.acquire([agent, keyTwo]).allowed)
        #expect(limiter.acquire([agent, keyTwo]).allowed)
        let agentRefused = limiter.acquire([agent, keyTwo])
        #expect(!agentRefused.allowed, "the agent's tier is used up across its keys")
        #expect(agentRefused.standings.map(\.remaining) == [0, 1], "the second key was not charged either")
    }

    @Test("a faster tier assigned after a slower one holds the identity back no longer than the new tier would")
    func tierChangeClamps() {
        let clock = HandClock()
        let limiter = RateLimiter(now: clock.now)
        let daily = RateLimiter.Limit(identity: "agent a", tier: RateLimitTier(name: "daily", requests: 10, windowSeconds: 86_400))
        for _ in 0..<10 { #expect(limiter.acquire([daily]).allowed) }
        #expect(limiter.acquire([daily]).retryAfterSeconds == 8640)
        let fast = RateLimiter.Limit(identity: "agent a", tier: RateLimitTier(name: "fast", requests: 60, windowSeconds: 60))
        let refused = limiter.acquire([fast])
        #expect(!refused.allowed, "the burst already spent still counts")
        #expect(refused.retryAfterSeconds == 1, "but only as much as the new tier's own burst")
        clock.advance(1)
        #expect(limiter.acquire([fast]).allowed)
    }

    @Test("one identity over its limit does not slow another")
    func identitiesAreIndependent() {
        let clock = HandClock()
        let limiter = RateLimiter(now: clock.now)
        let busy = RateLimiter.Limit(identity: "agent busy", tier: Self.tenPerMinute)
        let quiet = RateLimiter.Limit(identity: "agent quiet", tier: Self.tenPerMinute)
        for _ in 0..<50 { _ = limiter.acquire([busy]) }
        let other = limiter.acquire([quiet])
        #expect(other.allowed && other.standings.first?.remaining == 9)
    }

    @Test("a million distinct identities keep the table bounded: idle ones are swept")
    func memoryStaysBounded() {
        let clock = HandClock()
        let limiter = RateLimiter(minimumSweepSize: 1024, now: clock.now)
        // One request each, 1 ms apart: an identity's state matters for one interval (1 s), so
        // about a thousand are live at any time.
        let tier = RateLimitTier(name: "one", requests: 1, windowSeconds: 1)
        var largest = 0
        for index in 0..<1_000_000 {
            #expect(limiter.acquire([RateLimiter.Limit(identity: "agent \(index)", tier: tier)]).allowed)
            clock.advance(0.001)
            if index % 1000 == 0 { largest = max(largest, limiter.trackedIdentities) }
        }
        #expect(largest <= 4096, "largest table: \(largest)")
        #expect(limiter.trackedIdentities <= 4096)
    }
}
