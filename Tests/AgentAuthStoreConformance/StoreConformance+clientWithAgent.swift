import AgentAuthCore
import Foundation

extension StoreConformance {
    /// `clientWithAgent` is the token endpoint's one read: it must answer exactly what `client(id:)`
    /// and `agent(id:)` answer, for an agent in any state, and `nil` for a client that is not there.
    static func clientWithAgent(_ store: any AgentAuthStore) async throws {
        try expect(try await store.clientWithAgent(id: "nope") == nil, "unknown client must be nil")
        var agent = makeAgent("joined ✓", createdAt: time(2.5))
        agent.disabledAt = time(1.5)
        try await store.insertAgent(agent)
        let other = makeAgent("other", createdAt: time(3))
        try await store.insertAgent(other)
        var client = makeClient(agentID: agent.id, id: "joined-client+<&>", ttl: 900)
        client.previousSecretHash = SecretFormat.storageHash(SecretFormat.clientSecret.generate())
        client.previousSecretExpiresAt = time(60)
        try await store.insertClient(client)
        try await store.insertClient(makeClient(agentID: other.id))

        let joined = try await store.clientWithAgent(id: client.clientID)
        try expect(joined?.client == client, "joined client \(String(describing: joined?.client)) != stored \(client)")
        try expect(joined?.agent == agent, "joined agent \(String(describing: joined?.agent)) != stored \(agent)")

        guard let disabled = try await store.setAgentStatus(id: agent.id, status: .disabled, at: time(30)) else {
            throw ConformanceFailure(description: "disabling a stored agent must answer the agent")
        }
        let afterDisable = try await store.clientWithAgent(id: client.clientID)
        try expect(afterDisable?.agent == disabled, "a disabled agent is read with its status and watermark")
        try expect(afterDisable?.agent.status == .disabled, "the agent reads as disabled")
        try expect(afterDisable?.client == client, "disabling the agent leaves the client as it was")
        try expect(try await store.clientWithAgent(id: client.clientID.uppercased()) == nil, "client ids are matched exactly")
    }
}
