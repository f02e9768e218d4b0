import AgentAuthCore
import Synchronization

/// Keeps this node's `RevocationList` equal to the store's revocation events, whoever wrote
/// them (this node, the CLI, another node), and tells waiting feed requests the latest `seq`.
final class RevocationSync: Sendable {
    let store: any AgentAuthStore
    let list: RevocationList
    private let latest = Atomic<Int64>(0)

    init(store: any AgentAuthStore, list: RevocationList) {
        self.store = store
        self.list = list
    }

    var latestSeq: Int64 { latest.load(ordering: .acquiring) }

    /// Reads events after the list's cursor and applies them.
    func sync() async throws {
        let bounds = try await store.revocationBounds()
        defer { latest.store(max(bounds.latest, list.cursor), ordering: .releasing) }
        guard bounds.latest > list.cursor else { return }
        var cursor = list.cursor
        while true {
            let events = try await store.revocations(after: cursor, limit: 1000)
            guard let last = events.last else { break }
            list.apply(events)
            cursor = last.seq
        }
    }
}
