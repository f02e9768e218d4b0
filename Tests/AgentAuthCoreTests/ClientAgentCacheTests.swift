import AgentAuthCore
import Foundation
import Synchronization
import Testing

/// `ClientAgentCache` against a change count moved by hand: what it keeps, for how long, and
/// how much. Over real stores: `ClientCacheConformance` (both engines) and the process tests.
@Suite("Client and agent cache")
struct ClientAgentCacheTests {
    final class Counter: StoreChangeCounter {
        let value = Mutex<UInt64?>(0)
        func changeCount() -> UInt64? { value.withLock { $0 } }
        func move() { value.withLock { $0 = ($0 ?? 0) + 1 } }
        func set(_ count: UInt64?) { value.withLock { $0 = count } }
    }

    static func record(_ index: Int, status: Agent.Status = .active) -> (client: OAuthClient, agent: Agent) {
        let agent = Agent(id: "agt_\(index)", name: "agent \(index)", status: status, createdAt: Date(timeIntervalSince1970: 0))
        let client = OAuthClient(
            clientID: "cli_\(index)",
            agentID: agent.id,
            scopes: try! ScopeSet(parsing: "a"),
            audiences: ["agentauth"],
            tokenTTL: 60,
            grantTypes: [.clientCredentials],
            authMethod: .clientSecretBasic,
            jwks: nil,
            secretHash: SecretFormat.storageHash("secret \(index)"),
            createdAt: Date(timeIntervalSince1970: 0)
        )
        return (client, agent)
    }

    /// A store of `count` clients that counts its reads.
    final class Reads: Sendable {
        let count = Atomic<Int>(0)
        let known: Int
        init(known: Int) { self.known = known }
        func read(_ id: String) -> (client: OAuthClient, agent: Agent)? {
            count.add(1, ordering: .relaxed)
            guard let index = Int(id.dropFirst(4)), index < known else { return nil }
            return ClientAgentCacheTests.record(index)
        }
        var total: Int { count.load(ordering: .relaxed) }
    }

    @Test("kept until the count moves; then everything is read again")
    func keptUntilChange() async throws {
        let counter = Counter()
        let cache = ClientAgentCache(counter: counter)
        let reads = Reads(known: 2)
        for _ in 0..<3 {
            _ = try await cache.clientWithAgent(id: "cli_0") { reads.read($0) }
            _ = try await cache.clientWithAgent(id: "cli_1") { reads.read($0) }
        }
        #expect(reads.total == 2)
        #expect(
            try await cache.agent(id: "agt_0") { _ in
                Issue.record("the agent came with its client")
                return nil
            }?.id == "agt_0"
        )
        counter.move()
        _ = try await cache.clientWithAgent(id: "cli_0") { reads.read($0) }
        #expect(reads.total == 3, "a moved count drops what was kept")
        #expect(cache.keptCount.clients == 1, "the other client went too")
    }

    @Test("unknown client ids are never kept; found ones at most `capacity`")
    func bounded() async throws {
        let cache = ClientAgentCache(counter: Counter(), capacity: 8)
        let reads = Reads(known: 100)
        for index in 0..<1000 {
            _ = try await cache.clientWithAgent(id: "cli_\(index)") { reads.read($0) }
        }
        #expect(reads.total == 1000)
        #expect(cache.keptCount.clients == 8, "100 real clients fill the cache to its bound and no further")
        #expect(cache.keptCount.agents == 8)
        _ = try await cache.clientWithAgent(id: "cli_999") { reads.read($0) }
        #expect(reads.total == 1001, "a miss is read again: nothing is kept for it")
    }

    @Test("a read that a change overtook is not kept, and nothing is kept when the store can't tell")
    func overtakenAndUnknownCount() async throws {
        let counter = Counter()
        let cache = ClientAgentCache(counter: counter)
        let reads = Reads(known: 1)
        _ = try await cache.clientWithAgent(id: "cli_0") { id in
            counter.move()  // a commit lands while the store read runs
            return reads.read(id)
        }
        _ = try await cache.clientWithAgent(id: "cli_0") { reads.read($0) }
        #expect(reads.total == 2, "the first read was taken under the old count: not kept")
        _ = try await cache.clientWithAgent(id: "cli_0") { reads.read($0) }
        #expect(reads.total == 2, "the second was kept")

        counter.set(nil)
        for _ in 0..<3 { _ = try await cache.clientWithAgent(id: "cli_0") { reads.read($0) } }
        #expect(reads.total == 5, "without a count every lookup reads")
        counter.set(7)
        _ = try await cache.clientWithAgent(id: "cli_0") { reads.read($0) }
        #expect(reads.total == 6, "what was kept before the store stopped telling is not used after")
    }
}
