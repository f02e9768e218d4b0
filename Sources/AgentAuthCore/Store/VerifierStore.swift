public import Foundation

/// The registry of verifiers (`Verifier`), shared by all nodes.
public protocol VerifierStore: Sendable {
    /// Records a verifier's poll: inserts it, or updates its name, agent, cursor, bound and last
    /// contact (keeping its first contact). A verifier not yet registered is refused
    /// (`.limitReached`, writing nothing) when its agent already has `limitPerAgent` verifiers that
    /// are not gone at `verifier.lastSeen`; an id registered to another agent is refused
    /// (`.idTaken`, writing nothing) until it is forgotten.
    func recordVerifierPoll(_ verifier: Verifier, limitPerAgent: Int) async throws -> Verifier.Registration
    /// Removes the verifier `id` if `agentID` registered it (one that stops says so, so that
    /// revocations don't wait for it until its bound runs out). Returns whether it was removed.
    func removeVerifier(id: String, agentID: String) async throws -> Bool
    /// The registered verifiers last seen at or after `seenSince` (all of them when `nil`), by
    /// first contact.
    func verifiers(seenSince: Date?) async throws -> [Verifier]
    /// Removes the verifiers last seen before `lastSeenBefore`.
    func forgetVerifiers(lastSeenBefore: Date) async throws
}

extension VerifierStore {
    /// Every registered verifier, by first contact.
    public func verifiers() async throws -> [Verifier] {
        try await verifiers(seenSince: nil)
    }
}
