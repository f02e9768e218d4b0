import Synchronization

/// The clients and agents the token endpoint has read, kept while the store says nothing has
/// changed (`StoreChangeCounter`), so that a token request for a known client costs no store read.
///
/// Every lookup first asks the store for its change count; when it moved since the entries were
/// read, they are all dropped at once, whatever changed: a disable, a re-enable, a secret rotation,
/// a PATCH, a delete, made by this process, another node or the CLI, is seen by the very next
/// request. An entry is kept only under the count that was taken *before* its store read, so a
/// change committed during the read can only make the cache drop it, never keep it stale. When
/// the store can't tell (`nil`), nothing is kept.
///
/// What is kept is what the store holds: a client with the SHA-256 of its secrets, never a
/// secret. Only records that exist are kept (an unknown client id is read from the store each
/// time, as before), and at most `capacity` clients and `capacity` agents: when full, an
/// arbitrary entry makes room, so a caller naming many real clients costs store reads, not memory.
public final class ClientAgentCache: Sendable {
    struct State {
        var count: UInt64?
        var clients: [String: (client: OAuthClient, agent: Agent)] = [:]
        var agents: [String: Agent] = [:]
    }

    let counter: any StoreChangeCounter
    public let capacity: Int
    private let state = Mutex(State())

    public init(counter: any StoreChangeCounter, capacity: Int = 10_000) {
        precondition(capacity > 0, "a cache holds at least one client")
        self.counter = counter
        self.capacity = capacity
    }

    /// The client and its agent: kept, or read with `read` (and kept when found).
    public func clientWithAgent(
        id: String,
        read: (String) async throws -> (client: OAuthClient, agent: Agent)?
    ) async throws -> (client: OAuthClient, agent: Agent)? {
        let count = counter.changeCount()
        if let count, let kept = current(count, { $0.clients[id] }) { return kept }
        guard let found = try await read(id) else { return nil }
        if let count {
            keep(count) { state in
                Self.insert(found, for: id, into: &state.clients, capacity: capacity)
                Self.insert(found.agent, for: found.agent.id, into: &state.agents, capacity: capacity)
            }
        }
        return found
    }

    /// The agent: kept (by itself or with one of its clients), or read with `read` (and kept when found).
    public func agent(id: String, read: (String) async throws -> Agent?) async throws -> Agent? {
        let count = counter.changeCount()
        if let count, let kept = current(count, { $0.agents[id] }) { return kept }
        guard let found = try await read(id) else { return nil }
        if let count {
            keep(count) { state in Self.insert(found, for: id, into: &state.agents, capacity: capacity) }
        }
        return found
    }

    /// Clients and agents kept now (for tests and metrics).
    public var keptCount: (clients: Int, agents: Int) {
        state.withLock { ($0.clients.count, $0.agents.count) }
    }

    /// Looks an entry up under `count`, first dropping everything kept under another count.
    private func current<T: Sendable>(_ count: UInt64, _ entry: (State) -> T?) -> T? {
        state.withLock { state in
            if state.count != count {
                state = State(count: count)
                return nil
            }
            return entry(state)
        }
    }

    /// Runs `change` only when the store has not changed since `count` was taken (as far as
    /// this cache has seen): a read that a change overtook is not kept.
    private func keep(_ count: UInt64, _ change: (inout State) -> Void) {
        state.withLock { state in
            guard state.count == count else { return }
            change(&state)
        }
    }

    private static func insert<Value>(_ value: Value, for key: String, into entries: inout [String: Value], capacity: Int) {
        if entries[key] == nil, entries.count >= capacity {
            entries.remove(at: entries.startIndex)
        }
        entries[key] = value
    }
}
