public import Foundation
import Synchronization

/// What a verifier knows to be revoked, in memory: revoked token ids until their expiry, and
/// each disabled agent's latest disable time. Lookups are O(1) dictionary reads, so the list's
/// size does not slow verification. Fed by the store (on the server) or the revocation feed (at
/// resource servers).
public final class RevocationList: Sendable {
    struct State {
        var tokens: [String: Date] = [:]
        var agents: [String: Date] = [:]
        var clients: [String: Date] = [:]
        var cursor: Int64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Applies feed events in order and moves the cursor past them.
    public func apply(_ events: [RevocationEvent]) {
        state.withLock { state in
            for event in events {
                switch event.kind {
                case .token:
                    state.tokens[event.subject] = event.expiresAt ?? .distantFuture
                case .agent:
                    state.agents[event.subject] = max(state.agents[event.subject] ?? .distantPast, event.at)
                case .client:
                    state.clients[event.subject] = max(state.clients[event.subject] ?? .distantPast, event.at)
                case .apiKey, .signingKey, .limits, .quota:
                    break
                }
                state.cursor = max(state.cursor, event.seq)
            }
        }
    }

    /// Moves the cursor past events that were read but not applied (kinds this version does not know).
    public func advance(to cursor: Int64) {
        state.withLock { $0.cursor = max($0.cursor, cursor) }
    }

    /// Forgets everything (after the feed says the cursor is too old to resume from).
    public func reset() {
        state.withLock { $0 = State() }
    }

    public var cursor: Int64 { state.withLock { $0.cursor } }
    public var revokedTokenCount: Int { state.withLock { $0.tokens.count } }

    /// Whether a token must be refused: its `jti` or an ancestor's is revoked, or an agent of its
    /// chain (subject or actor) or its client was disabled at or after it was issued.
    public func isRevoked(tokenIDs: some Sequence<String>, agentIDs: some Sequence<String>, clientID: String?, issuedAt: Date) -> Bool {
        state.withLock { state in
            if let clientID, let disabledAt = state.clients[clientID], disabledAt >= issuedAt { return true }
            for agentID in agentIDs {
                if let disabledAt = state.agents[agentID], disabledAt >= issuedAt { return true }
            }
            return tokenIDs.contains { state.tokens[$0] != nil }
        }
    }

    /// As `isRevoked(tokenIDs:agentIDs:clientID:issuedAt:)` for a token's chain, without building the
    /// chain arrays: this runs on every request.
    public func isRevoked(_ claims: AccessTokenClaims) -> Bool {
        state.withLock { state in
            if !state.agents.isEmpty {
                if let disabledAt = state.agents[claims.subject], disabledAt >= claims.issuedAt { return true }
                for actor in claims.actors {
                    if let disabledAt = state.agents[actor], disabledAt >= claims.issuedAt { return true }
                }
            }
            if !state.clients.isEmpty, let disabledAt = state.clients[claims.clientID], disabledAt >= claims.issuedAt { return true }
            if state.tokens.isEmpty { return false }
            if state.tokens[claims.tokenID] != nil { return true }
            for ancestor in claims.ancestors where state.tokens[ancestor] != nil { return true }
            return false
        }
    }

    /// Drops token entries whose token has expired (with `leeway`); they can't verify anyway.
    /// Removes in place: a large list is scanned, not copied.
    public func prune(now: Date, leeway: TimeInterval = 30) {
        let cutoff = now.addingTimeInterval(-leeway)
        state.withLock { state in
            var expired: [String] = []
            for (tokenID, expiresAt) in state.tokens where expiresAt <= cutoff { expired.append(tokenID) }
            for tokenID in expired { state.tokens[tokenID] = nil }
        }
    }
}
