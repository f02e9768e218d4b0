/// The rule that keeps a signature-valid token of a cut-off agent from working: every agent of
/// its chain (the subject and each actor) exists, is active, and was not disabled at or after the
/// token was issued, so tokens issued up to the latest disable stay dead after re-enabling
/// (DESIGN.md "Access tokens").
public struct AgentStatusCheck: Sendable {
    let store: any AgentStore
    /// Agents already read, while the store reports no change; `nil`: read every time.
    let cache: ClientAgentCache?

    public init(store: any AgentStore, cache: ClientAgentCache? = nil) {
        self.store = store
        self.cache = cache
    }

    /// Throws `TokenRejection.agentDisabled` when an agent of the token's chain fails the rule.
    public func check(_ claims: AccessTokenClaims) async throws {
        for agentID in claims.chainAgents {
            guard let agent = try await agent(id: agentID), agent.status == .active else { throw TokenRejection.agentDisabled }
            if let disabledAt = agent.disabledAt, disabledAt >= claims.issuedAt { throw TokenRejection.agentDisabled }
        }
    }

    private func agent(id: String) async throws -> Agent? {
        guard let cache else { return try await store.agent(id: id) }
        return try await cache.agent(id: id) { id in try await store.agent(id: id) }
    }
}
