public import Foundation
import Synchronization

/// What a verifier knows of the limits, in memory: the tiers, who is assigned what, and the
/// quotas used up until when. Loaded from a `LimitsSnapshot` (the auth server's store, or
/// `GET /oauth/limits` at resource servers) and kept current by the revocation feed: `.quota`
/// events are applied as they come, `.limits` events ask for a new snapshot. Lookups are
/// dictionary reads under one lock: this runs on every request.
///
/// Which of a snapshot and a feed event is newer is decided by the order things happened here,
/// not by the feed's sequence numbers (on PostgreSQL a sequence number can be taken before a
/// later one commits, and a restored database starts them lower): a snapshot whose fetch began
/// (`beginFetch()`) after an event was applied supersedes it; one that began before keeps it.
public final class LimitsState: Sendable {
    struct State {
        var snapshot = LimitsSnapshot()
        var exhausted: [String: Date] = [:]
        /// Used-up quotas learnt from the feed, by subject, with the generation they were applied in.
        var fromFeed: [String: (until: Date, generation: UInt64)] = [:]
        /// Counts applications of feed events and starts of fetches.
        var generation: UInt64 = 0
        /// The generation at which the fetch of the snapshot held began.
        var snapshotGeneration: UInt64 = 0
        var loaded = false
    }

    private let state = Mutex(State())

    public init() {}

    /// Whether a snapshot has been loaded (before that, nothing is limited).
    public var isLoaded: Bool { state.withLock { $0.loaded } }

    /// Call before fetching a snapshot; pass the answer to `replace(with:fetchBegan:)`.
    public func beginFetch() -> UInt64 {
        state.withLock { state in
            state.generation += 1
            return state.generation
        }
    }

    /// Replaces everything with `snapshot`, except used-up quotas applied from the feed after its
    /// fetch began; a snapshot whose fetch began before the one held is dropped (two fetches may
    /// finish out of order). Tiers that could not limit anything sensibly (a count or window
    /// below 1, as only a hand-edited database could hold) are left out.
    public func replace(with snapshot: LimitsSnapshot, fetchBegan: UInt64) {
        var snapshot = snapshot
        snapshot.tiers = snapshot.tiers.filter { $0.value.requests >= 1 && $0.value.windowSeconds >= 1 && $0.value.burst >= 1 }
        var exhausted: [String: Date] = [:]
        for exhaustion in snapshot.exhausted {
            exhausted[exhaustion.subject] = max(exhausted[exhaustion.subject] ?? .distantPast, exhaustion.until)
        }
        state.withLock { state in
            guard !state.loaded || fetchBegan >= state.snapshotGeneration else { return }
            state.fromFeed = state.fromFeed.filter { $0.value.generation > fetchBegan }
            for (subject, event) in state.fromFeed {
                exhausted[subject] = max(exhausted[subject] ?? .distantPast, event.until)
            }
            state.snapshot = snapshot
            state.snapshotGeneration = fetchBegan
            state.exhausted = exhausted
            state.loaded = true
        }
    }

    /// Applies the feed's `.quota` events; answers whether a `.limits` event asks for a new
    /// snapshot. Replaying events (after a feed reset) is harmless: an exhaustion a later change
    /// lifted is dropped again by the snapshot that change's `.limits` event brings.
    @discardableResult
    public func apply(_ events: [RevocationEvent]) -> Bool {
        var reload = false
        state.withLock { state in
            state.generation += 1
            for event in events {
                switch event.kind {
                case .quota:
                    let until = event.expiresAt ?? .distantFuture
                    state.exhausted[event.subject] = max(state.exhausted[event.subject] ?? .distantPast, until)
                    state.fromFeed[event.subject] = (max(state.fromFeed[event.subject]?.until ?? .distantPast, until), state.generation)
                case .limits:
                    reload = true
                default:
                    break
                }
            }
        }
        return reload
    }

    /// What applies to a request by `subject` at `now`: the rate limits to pass (the agent's tier,
    /// then the credential's), and the latest end of a used-up quota of the agent or the key.
    public func limits(
        for subject: LimitSubject,
        now: Date
    ) -> (rateLimits: [RateLimiter.Limit], exhaustedUntil: Date?, exhaustedQuota: Quota?) {
        state.withLock { state in
            guard state.loaded else { return ([], nil, nil) }
            var rateLimits: [RateLimiter.Limit] = []
            var exhaustedUntil: Date?
            var exhaustedQuota: Quota?
            if !state.exhausted.isEmpty {
                for id in [subject.agentID, subject.credential.id] {
                    if let until = state.exhausted[id], until > now, until > exhaustedUntil ?? .distantPast {
                        exhaustedUntil = until
                        exhaustedQuota = (state.snapshot.agents[id] ?? state.snapshot.keys[id])?.quota
                    }
                }
            }
            if let name = state.snapshot.agents[subject.agentID]?.rateLimit, let tier = state.snapshot.tiers[name] {
                rateLimits.append(RateLimiter.Limit(identity: "agent " + subject.agentID, tier: tier))
            }
            let credentialTier: String?
            switch subject.credential {
            case .apiKey(let id): credentialTier = state.snapshot.keys[id]?.rateLimit
            case .client(let id): credentialTier = state.snapshot.clients[id]?.rateLimit
            }
            if let name = credentialTier, let tier = state.snapshot.tiers[name] {
                rateLimits.append(RateLimiter.Limit(identity: "credential " + subject.credential.id, tier: tier))
            }
            return (rateLimits, exhaustedUntil, exhaustedQuota)
        }
    }

    /// Drops quota exhaustions whose period has ended.
    public func prune(now: Date) {
        state.withLock { state in
            state.exhausted = state.exhausted.filter { $0.value > now }
            state.fromFeed = state.fromFeed.filter { $0.value.until > now }
        }
    }
}
