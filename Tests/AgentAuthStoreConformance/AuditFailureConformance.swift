public import AgentAuthCore
import Foundation

/// The shared case for "a change whose audit write fails leaves nothing behind": every admin
/// change, made through the administration services as the API and the CLI make it, against a
/// store whose audit writes fail. Each change must throw and leave the store as it was: no
/// agent, key, client or signing key added, nothing revoked, disabled or rolled, no feed event.
/// How audit writes are made to fail is the engine's (a trigger), so each store's test target
/// passes `breakAuditWrites`.
public enum AuditFailureConformance {
    public static func run(_ store: any AgentAuthStore, breakAuditWrites: () async throws -> Void) async throws {
        let masterKey = MasterKey.generate().key
        let actor = AuditActor(via: "test", chainKey: AuditChainKey(masterKey: masterKey))
        let agents = AgentAdministration(store: store)
        let keys = APIKeyAdministration(store: store)
        let clients = ClientAdministration(store: store)
        let ring = SigningKeyRing(store: store, masterKey: masterKey)
        guard let (admin, _) = try await agents.initialize(masterKey: masterKey) else { throw ConformanceFailure(description: "initialised") }
        let agent = try await agents.createAgent(name: "worker", by: actor)
        let toRevoke = try await keys.createAPIKey(agentID: agent.id, APIKeyRequest(scopes: ["a"]), by: actor).record
        let toRoll = try await keys.createAPIKey(agentID: agent.id, APIKeyRequest(scopes: ["a"]), by: actor).record
        let client = try await clients.createClient(agentID: agent.id, ClientRequest(scope: "a"), by: actor).client
        try await ring.reload()
        let token = try await TokenIssuer(issuer: "https://issuer.example", keys: ring).issue(
            subject: agent.id,
            clientID: client.clientID,
            audience: ["agentauth"],
            scope: try ScopeSet(validating: ["a"]),
            lifetime: 600
        )

        struct Snapshot: Equatable {
            var agents: [Agent]
            var keys: [APIKey]
            var clients: [OAuthClient]
            var signingKeys: [String]
            var policy: [String]?
            var revocations: [RevocationEvent]
            var auditEvents: Int
        }
        func snapshot() async throws -> Snapshot {
            Snapshot(
                agents: try await store.agents(limit: 100, offset: 0),
                keys: try await store.apiKeys(agentID: agent.id),
                clients: try await store.clients(agentID: agent.id),
                signingKeys: try await store.signingKeys().map(\.kid).sorted(),
                policy: try await store.delegationPolicy(agentID: agent.id),
                // The events themselves: PostgreSQL's sequence moves on even for a rolled-back
                // insert, so the latest `seq` may skip a number; only a stored event would be a change.
                revocations: try await store.revocations(after: 0, limit: 1000),
                auditEvents: try await store.auditChain().count
            )
        }
        let before = try await snapshot()
        try await breakAuditWrites()

        let changes: [(String, () async throws -> Void)] = [
            ("create an agent", { _ = try await agents.createAgent(name: "never", by: actor) }),
            ("disable an agent", { _ = try await agents.setStatus(agentID: agent.id, .disabled, by: actor) }),
            ("create a key", { _ = try await keys.createAPIKey(agentID: agent.id, APIKeyRequest(scopes: ["a"]), by: actor) }),
            ("revoke a key", { _ = try await keys.revokeAPIKey(id: toRevoke.id, by: actor) }),
            ("roll a key", { _ = try await keys.rollAPIKey(id: toRoll.id, graceSeconds: 60, by: actor) }),
            (
                "set a delegation policy",
                { _ = try await DelegationAdministration(store: store).setDelegationPolicy(agentID: agent.id, mayAct: [admin.id], by: actor) }
            ),
            ("register a client", { _ = try await clients.createClient(agentID: agent.id, ClientRequest(scope: "a"), by: actor) }),
            ("rotate a client secret", { _ = try await clients.rotateSecret(clientID: client.clientID, graceSeconds: 60, by: actor) }),
            (
                "rotate the signing key",
                { _ = try await SigningKeyAdministration(keyRing: ring, store: store, leeway: 30).rotate(to: .eddsa, activationDelay: 0, by: actor) }
            ),
            ("revoke a token", { _ = try await TokenRevocation(store: store).revoke(token.claims, by: actor) }),
        ]
        for (name, change) in changes {
            // Refused, as it must be; what matters then is what it left behind.
            guard (try? await change()) == nil else {
                throw ConformanceFailure(description: "\(name): succeeded although its audit event could not be written")
            }
            let after = try await snapshot()
            guard after == before else { throw ConformanceFailure(description: "\(name): left a change behind without its audit event") }
        }
    }
}
