import AgentAuthCore
import Synchronization

/// Keeps this node's `RevocationList` equal to the store's revocation events, whoever wrote
/// them (this node, the CLI, another node), reloads the signing keys when a rotation's events
/// arrive, and tells waiting feed requests the latest `seq` (only then: a verifier that learns
/// of a rotation from this node finds the new key in its JWKS).
final class RevocationSync: Sendable {
    let store: any AgentAuthStore
    let list: RevocationList
    let keyRing: SigningKeyRing
    private let latest = Atomic<Int64>(0)

    init(store: any AgentAuthStore, list: RevocationList, keyRing: SigningKeyRing) {
        self.store = store
        self.list = list
        self.keyRing = keyRing
    }

    var latestSeq: Int64 { latest.load(ordering: .acquiring) }

    /// Reads events after the list's cursor and applies them.
    func sync() async throws {
        let bounds = try await store.revocationBounds()
        defer { latest.store(max(bounds.latest, list.cursor), ordering: .releasing) }
        guard bounds.latest > list.cursor else { return }
        var cursor = list.cursor
        var rotated = false
        while true {
            let events = try await store.revocations(after: cursor, limit: 1000)
            guard let last = events.last else { break }
            list.apply(events)
            rotated = rotated || events.contains { $0.kind == .signingKey }
            cursor = last.seq
        }
        if rotated { try await keyRing.reload() }
    }
}
