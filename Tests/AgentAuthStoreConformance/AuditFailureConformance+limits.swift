public import AgentAuthCore
import Foundation

extension AuditFailureConformance {
    /// The same for the changes of rate limits, quotas and clients, made on the store with their
    /// audit record: each must throw and leave no tier, assignment, quota exhaustion, client
    /// change or feed event behind, even one the change would have found (a lowered quota).
    public static func runLimits(_ store: any AgentAuthStore, breakAuditWrites: () async throws -> Void) async throws {
        let chainKey = AuditChainKey(masterKey: MasterKey.generate().key)
        func audit(_ type: AuditEventType) -> AuditRecord {
            AuditRecord(events: [AuditEvent(time: StoreConformance.time(0), type: type)], key: chainKey)
        }
        try await store.appendAudit([AuditEvent(time: StoreConformance.time(0), type: AuditChain.initializationType)], key: chainKey)
        let gold = RateLimitTier(name: "gold", requests: 10, windowSeconds: 1)
        _ = try await store.putRateLimitTier(gold, audit: nil)
        var agent = StoreConformance.makeAgent()
        agent.quota = Quota(requests: 10, period: .hour)
        try await store.insertAgent(agent)
        var key = StoreConformance.makeKey(agentID: agent.id)
        key.quota = Quota(requests: 10, period: .hour)
        try await store.insertAPIKey(key)
        let client = StoreConformance.makeClient(agentID: agent.id)
        try await store.insertClient(client)
        let count = UsageReport.Count(agentID: agent.id, credentialID: key.id, requests: 5, rateLimited: 0)
        _ = try await store.recordUsage(UsageReport(batchID: "b1", counts: [count]), at: StoreConformance.time(10))

        struct Snapshot: Equatable {
            var agent: Agent?
            var key: APIKey?
            var client: OAuthClient?
            var tiers: [RateLimitTier]
            var limits: LimitsSnapshot
            var revocations: [RevocationEvent]
            var auditEvents: Int
        }
        func snapshot() async throws -> Snapshot {
            Snapshot(
                agent: try await store.agent(id: agent.id),
                key: try await store.apiKey(id: key.id),
                client: try await store.client(id: client.clientID),
                tiers: try await store.rateLimitTiers(),
                limits: try await store.limitsSnapshot(now: StoreConformance.time(20)),
                revocations: try await store.revocations(after: 0, limit: 1000),
                auditEvents: try await store.auditChain().count
            )
        }
        let before = try await snapshot()
        try await breakAuditWrites()

        var lowered = agent
        lowered.quota = Quota(requests: 2, period: .hour)
        lowered.rateLimit = "gold"
        var loweredKey = key
        loweredKey.quota = Quota(requests: 2, period: .hour)
        loweredKey.scopes = ScopeSet()
        var renamed = client
        renamed.name = "renamed"
        renamed.rateLimit = "gold"
        let at = StoreConformance.time(15)
        let changes: [(String, () async throws -> Void)] = [
            (
                "define a tier",
                { _ = try await store.putRateLimitTier(RateLimitTier(name: "silver", requests: 1, windowSeconds: 1), audit: audit(.rateLimitSet)) }
            ),
            (
                "change a tier",
                { _ = try await store.putRateLimitTier(RateLimitTier(name: "gold", requests: 99, windowSeconds: 9), audit: audit(.rateLimitSet)) }
            ),
            ("delete a tier", { _ = try await store.deleteRateLimitTier(name: "high", audit: audit(.rateLimitDeleted)) }),
            ("update an agent, using up its quota", { _ = try await store.updateAgent(lowered, at: at, audit: audit(.agentUpdated)) }),
            ("update a key, using up its quota", { _ = try await store.updateAPIKey(loweredKey, at: at, audit: audit(.keyUpdated)) }),
            ("update a client", { _ = try await store.updateClient(renamed, at: at, audit: audit(.clientUpdated)) }),
            (
                "disable a client",
                { _ = try await store.setClientStatus(id: client.clientID, status: .disabled, at: at, audit: audit(.clientDisabled)) }
            ),
            ("delete a client", { _ = try await store.deleteClient(id: client.clientID, at: at, audit: audit(.clientDeleted)) }),
        ]
        for (name, change) in changes {
            guard (try? await change()) == nil else {
                throw ConformanceFailure(description: "\(name): succeeded although its audit event could not be written")
            }
            let after = try await snapshot()
            guard after == before else { throw ConformanceFailure(description: "\(name): left a change behind without its audit event") }
        }
    }
}
