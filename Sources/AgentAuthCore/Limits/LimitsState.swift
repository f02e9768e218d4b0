public import Foundation
import Synchronization

/// What a verifier knows of the limits, in memory: the tiers, who is assigned what, and the
/// quotas used up until when. Loaded from a `LimitsSnapshot` (the auth server's store, or
/// `GET /oauth/limits` at resource servers) and kept current by the revocation feed: `.quota`
/// events are applied as they come, `.limits` events ask for a new snapshot. Lookups are
/// dictionary reads under one lock: this runs on every request.
public final class LimitsState: Sendable {
    struct State {
        var snapshot = LimitsSnapshot()
        var exhausted: [String: Date] = [:]
        /// Used-up quotas learnt from the feed, by subject, with the event's `seq`: a snapshot
        /// fetched before such an event but stored after it must not drop it.
        var fromFeed: [String: (until: Date, seq: Int64)] = [:]
        var loaded = false
    }

    private let state = Mutex(State())

    public init() {}

    /// Whether a snapshot has been loaded (before that, nothing is limited).
    public var isLoaded: Bool { state.withLock { $0.loaded } }

    /// Replaces everything with `snapshot`, unless the one held is newer (two fetches may finish
    /// out of order).
    public func replace(with snapshot: LimitsSnapshot) {
        var exhausted: [String: Date] = [:]
        for exhaustion in snapshot.exhausted {
            exhausted[exhaustion.subject] = max(exhausted[exhaustion.subject] ?? .distantPast, exhaustion.until)
        }
        state.withLock { state in
            guard !state.loaded || snapshot.cursor >= state.snapshot.cursor else { return }
            state.fromFeed = state.fromFeed.filter { $0.value.seq > snapshot.cursor }
            for (subject, event) in state.fromFeed {
                exhausted[subject] = max(exhausted[subject] ?? .distantPast, event.until)
            }
            state.snapshot = snapshot
            state.exhausted = exhausted
            state.loaded = true
        }
    }

    /// Applies the feed's `.quota` events; answers whether a `.limits` event asks for a new snapshot.
    @discardableResult
    public func apply(_ events: [RevocationEvent]) -> Bool {
        var reload = false
        state.withLock { state in
            // A snapshot reflects every event up to its cursor; replaying one (after a feed reset)
            // could bring back an exhaustion that a later change lifted.
            for event in events where event.seq > state.snapshot.cursor {
                switch event.kind {
                case .quota:
                    let until = event.expiresAt ?? .distantFuture
                    state.exhausted[event.subject] = max(state.exhausted[event.subject] ?? .distantPast, until)
                    state.fromFeed[event.subject] = (max(state.fromFeed[event.subject]?.until ?? .distantPast, until), event.seq)
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
    public func limits(for subject: LimitSubject, now: Date) -> (rateLimits: [RateLimiter.Limit], exhaustedUntil: Date?) {
        state.withLock { state in
            guard state.loaded else { return ([], nil) }
            var rateLimits: [RateLimiter.Limit] = []
            var exhaustedUntil: Date?
            if !state.exhausted.isEmpty {
                for id in [subject.agentID, subject.credential.id] {
                    if let until = state.exhausted[id], until > now { exhaustedUntil = max(exhaustedUntil ?? until, until) }
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
            return (rateLimits, exhaustedUntil)
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
