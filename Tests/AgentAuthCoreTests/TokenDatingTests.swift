import AgentAuthCore
import AgentAuthSQLite
import AgentAuthStoreConformance
import AgentAuthTesting
import Foundation
import Testing

/// Why `/oauth/token` reads the agent once and never again after signing: the token is dated
/// from before that read, so an agent disabled between the read and the signature is covered by
/// the disable watermark that every verifier applies (`AgentStatusCheck` at the auth server,
/// `RevocationList` at resource servers).
@Suite("Token dating")
struct TokenDatingTests {
    @Test("a token dated from before its agent was read is refused everywhere when the agent is disabled between the read and the signature")
    func disabledBetweenReadAndSignature() async throws {
        try await withTemporaryStore { store in
            let clock = SigningKeyScheduleTests.Clock()
            clock.advance(0.5)
            let masterKey = MasterKey.generate().key
            let agents = AgentAdministration(store: store, now: clock.now)
            _ = try await agents.initialize(masterKey: masterKey)
            let agent = try await agents.createAgent(name: "worker", by: .test)
            let issued = try await ClientAdministration(store: store, now: clock.now).createClient(
                agentID: agent.id,
                ClientRequest(scope: "a"),
                by: .test
            )
            let ring = SigningKeyRing(store: store, masterKey: masterKey, now: clock.now)
            try await ring.reload()
            let grant = ClientCredentialsGrant(issuer: TokenIssuer(issuer: "https://issuer.example", keys: ring, now: clock.now))
            let authenticator = ClientAuthenticator(
                store: store,
                issuer: "https://issuer.example",
                tokenEndpoint: "https://issuer.example/token",
                now: clock.now
            )

            // The request begins and reads its client and agent: active.
            let requestBegan = clock.now()
            let (client, _) = try await authenticator.authenticate(.basic(clientID: issued.client.clientID, secret: try #require(issued.secret)))
            // The agent is disabled just after the read, and the signature comes a few seconds later.
            _ = try await agents.setStatus(agentID: agent.id, .disabled, by: .test)
            clock.advance(2)
            let dated = try await grant.issue(client: client, requestedScope: nil, requestedAudiences: [], issuedAt: requestBegan).claims
            let undated = try await grant.issue(client: client, requestedScope: nil, requestedAudiences: []).claims

            let deniedAtResourceServers = RevocationList()
            deniedAtResourceServers.apply(try await store.revocations(after: 0, limit: 100))
            #expect(deniedAtResourceServers.isRevoked(dated), "a resource server refuses the token dated from the read")
            await #expect(throws: TokenRejection.agentDisabled) { try await AgentStatusCheck(store: store).check(dated) }
            // Dated at its signature, the same token would pass the watermark: only the agent's
            // current status would stop it, and that is gone once the agent is enabled again.
            #expect(!deniedAtResourceServers.isRevoked(undated), "a token dated at signing escapes the watermark")
            _ = try await agents.setStatus(agentID: agent.id, .active, by: .test)
            try await AgentStatusCheck(store: store).check(undated)
            await #expect(throws: TokenRejection.agentDisabled) { try await AgentStatusCheck(store: store).check(dated) }
        }
    }
}
