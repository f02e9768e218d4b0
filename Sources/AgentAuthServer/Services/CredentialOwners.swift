import AgentAuthCore
import Synchronization

/// Which agent each API key and OAuth client belongs to, as usage reports name them: a report may
/// only count requests against a credential of the agent it names, and not against ids that don't
/// exist (which would also fill the store with rows nobody can use). Pairs found are remembered
/// (a credential never changes agent; a deleted client's pair is dropped when the set is full).
final class CredentialOwners: Sendable {
    let store: any AgentAuthStore
    let capacity: Int
    private let known = Mutex<Set<Pair>>([])

    struct Pair: Hashable {
        let agentID: String
        let credentialID: String
    }

    init(store: any AgentAuthStore, capacity: Int = 100_000) {
        self.store = store
        self.capacity = capacity
    }

    /// Whether `credentialID` is an API key or a client of `agentID`.
    func owns(agentID: String, credentialID: String) async throws -> Bool {
        let pair = Pair(agentID: agentID, credentialID: credentialID)
        if known.withLock({ $0.contains(pair) }) { return true }
        let owned: Bool
        if Identifier.isValid(credentialID, prefix: Identifier.apiKeyPrefix), let key = try await store.apiKey(id: credentialID) {
            owned = key.agentID == agentID
        } else {
            owned = try await store.client(id: credentialID)?.agentID == agentID
        }
        if owned {
            known.withLock { known in
                if known.count >= capacity { known.removeAll(keepingCapacity: true) }
                known.insert(pair)
            }
        }
        return owned
    }
}
