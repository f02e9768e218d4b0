public import AgentAuthCore
import Foundation

/// One case of the store conformance suite. Each runs on a fresh, empty store.
public struct StoreConformanceCase: Sendable, CustomStringConvertible {
    public let description: String
    let body: @Sendable (any AgentAuthStore) async throws -> Void

    public func run(on store: any AgentAuthStore) async throws {
        try await body(store)
    }
}

/// A conformance expectation that did not hold.
public struct ConformanceFailure: Error, CustomStringConvertible {
    public let description: String
}

/// The one conformance suite every `AgentAuthStore` implementation must pass. It lives in a
/// plain target (it throws instead of using `#expect`) so that each store's test target runs it
/// with `@Test(arguments: StoreConformance.cases)`.
public enum StoreConformance {
    public static let cases: [StoreConformanceCase] = recordCases + limitsCases + usageCases + auditRetentionCases + verifierCases

    static let recordCases: [StoreConformanceCase] = [
        .init(description: "agent round trip keeps every field", body: agentRoundTrip),
        .init(description: "duplicate agent id is a conflict", body: duplicateAgent),
        .init(description: "agents list oldest first with limit and offset", body: agentListing),
        .init(description: "disable sets a watermark that enable keeps", body: disableWatermark),
        .init(description: "API key round trip and lookup by hash", body: keyRoundTrip),
        .init(description: "key for a missing agent is not found", body: keyForMissingAgent),
        .init(description: "duplicate key hash is a conflict", body: duplicateKeyHash),
        .init(description: "revoke keeps the first revocation time", body: revokeKey),
        .init(description: "roll inserts the replacement and shortens the old key", body: rollKey),
        .init(description: "roll refuses revoked, expired, rolled and missing keys", body: rollRefusals),
        .init(description: "failed roll changes nothing", body: rollIsAtomic),
        .init(description: "usage batches never move last-used backwards", body: usageBatches),
        .init(description: "initialize runs once", body: initializeOnce),
        .init(description: "keys are listed per agent", body: keysPerAgent),
        .init(description: "client round trip, listing and max token TTL", body: clientRoundTrip),
        .init(description: "client for a missing agent or with a taken id is refused", body: clientConflicts),
        .init(description: "a client with its agent in one read: joined fields, a disabled agent, unknown clients", body: clientWithAgent),
        .init(description: "client secret rotation keeps the previous secret until the grace ends", body: clientSecretRotation),
        .init(description: "assertion ids are single-use until they expire", body: assertionReplay),
        .init(description: "signing key rotation retires the active key in one step", body: signingKeyRotation),
        .init(description: "signing key rotation tells verifiers through the feed, in the same transaction", body: signingKeyRotationEvents),
        .init(description: "revocation events: tokens once, key revocations and disables in order", body: revocationEvents),
        .init(description: "revocation pruning keeps what can still matter", body: revocationPruning),
        .init(description: "audit events chain across batches and filter newest first", body: auditLog),
        .init(description: "delegation policy: any agent by default, a list, or none", body: delegationPolicy),
        .init(description: "admin changes store their audit event with them, and only when the change is made", body: auditedChanges),
    ]

    // MARK: Fixtures

    /// Times with whole milliseconds, which every engine stores exactly.
    static func time(_ seconds: Double) -> Date { Date(timeIntervalSince1970: 1_800_000_000 + seconds) }

    static func makeAgent(_ name: String = "agent", createdAt: Date = time(0)) -> Agent {
        Agent(id: Identifier.make(prefix: Identifier.agentPrefix), name: name, status: .active, createdAt: createdAt)
    }

    static func makeKey(
        agentID: String,
        scopes: [String] = ["conversations:read"],
        createdAt: Date = time(0),
        expiresAt: Date? = nil
    )
        -> APIKey
    {
        let secret = SecretFormat.apiKey.generate()
        return APIKey(
            id: Identifier.make(prefix: Identifier.apiKeyPrefix),
            agentID: agentID,
            name: "test key",
            keyHash: SecretFormat.storageHash(secret),
            display: SecretFormat.apiKey.display(secret),
            scopes: try! ScopeSet(validating: scopes),
            rateLimit: "standard",
            status: .active,
            createdAt: createdAt,
            expiresAt: expiresAt
        )
    }

    static func makeClient(agentID: String, id: String = Identifier.make(prefix: "cli_"), ttl: Int = 1800) -> OAuthClient {
        OAuthClient(
            clientID: id,
            agentID: agentID,
            scopes: try! ScopeSet(parsing: "billing:read conversations:read"),
            audiences: ["agentauth", "https://api.example"],
            tokenTTL: ttl,
            grantTypes: [.clientCredentials],
            authMethod: .clientSecretPost,
            jwks: nil,
            secretHash: SecretFormat.storageHash(SecretFormat.clientSecret.generate()),
            createdAt: time(7)
        )
    }

    static func makeSigningKey(_ kid: String, createdAt: Date = time(0)) -> SigningKey {
        SigningKey(
            kid: kid,
            algorithm: .eddsa,
            publicJWK: #"{"kid":"\#(kid)"}"#,
            sealedPrivateKey: Data([1, 2, 3, 4]),
            status: .active,
            createdAt: createdAt
        )
    }

    static func expect(_ condition: Bool, _ message: String) throws {
        guard condition else { throw ConformanceFailure(description: message) }
    }

    static func expectStoreError(_ kind: StoreError.Kind, _ message: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as StoreError {
            try expect(error.kind == kind, "\(message): expected \(kind), got \(error.kind)")
            return
        }
        throw ConformanceFailure(description: "\(message): expected StoreError.\(kind), nothing was thrown")
    }

    // MARK: Agents

    static func agentRoundTrip(_ store: any AgentAuthStore) async throws {
        var agent = makeAgent("research agent ✓", createdAt: time(1.25))
        agent.disabledAt = time(0.5)
        try await store.insertAgent(agent)
        let fetched = try await store.agent(id: agent.id)
        try expect(fetched == agent, "fetched agent \(String(describing: fetched)) != stored \(agent)")
        try expect(try await store.agent(id: "agt_doesnotexist000000") == nil, "unknown agent must be nil")
    }

    static func duplicateAgent(_ store: any AgentAuthStore) async throws {
        let agent = makeAgent()
        try await store.insertAgent(agent)
        try await expectStoreError(.conflict, "second insert of the same id") { try await store.insertAgent(agent) }
    }

    static func agentListing(_ store: any AgentAuthStore) async throws {
        let agents = (0..<5).map { makeAgent("a\($0)", createdAt: time(Double(10 - $0))) }
        for agent in agents { try await store.insertAgent(agent) }
        let all = try await store.agents(limit: 100, offset: 0)
        try expect(all.map(\.id) == agents.reversed().map(\.id), "agents must be listed oldest first")
        let page = try await store.agents(limit: 2, offset: 1)
        try expect(page.map(\.id) == Array(agents.reversed().map(\.id)[1..<3]), "limit/offset page is wrong")
    }

    static func disableWatermark(_ store: any AgentAuthStore) async throws {
        let agent = makeAgent()
        try await store.insertAgent(agent)
        let disabled = try await store.setAgentStatus(id: agent.id, status: .disabled, at: time(100))
        try expect(disabled?.status == .disabled && disabled?.disabledAt == time(100), "disable must set status and watermark")
        let enabled = try await store.setAgentStatus(id: agent.id, status: .active, at: time(200))
        try expect(enabled?.status == .active && enabled?.disabledAt == time(100), "enable must keep the watermark")
        let again = try await store.setAgentStatus(id: agent.id, status: .disabled, at: time(300))
        try expect(again?.disabledAt == time(300), "a later disable moves the watermark forward")
        let missing = try await store.setAgentStatus(id: "agt_doesnotexist000000", status: .disabled, at: time(1))
        try expect(missing == nil, "unknown agent must give nil")
    }

    // MARK: Keys

    static func keyRoundTrip(_ store: any AgentAuthStore) async throws {
        let agent = makeAgent()
        try await store.insertAgent(agent)
        let key = makeKey(agentID: agent.id, scopes: ["billing:read", "conversations:read"], createdAt: time(2), expiresAt: time(3600))
        try await store.insertAPIKey(key)
        try expect(try await store.apiKey(id: key.id) == key, "fetched key differs from stored key")
        let found = try await store.apiKeyWithAgent(hash: key.keyHash)
        try expect(found?.key == key && found?.agent == agent, "lookup by hash must return the key and its agent")
        let unknown = try await store.apiKeyWithAgent(hash: SecretFormat.storageHash(SecretFormat.apiKey.generate()))
        try expect(unknown == nil, "unknown hash must give nil")
    }

    static func keyForMissingAgent(_ store: any AgentAuthStore) async throws {
        let key = makeKey(agentID: "agt_doesnotexist000000")
        try await expectStoreError(.notFound, "key for a missing agent") { try await store.insertAPIKey(key) }
    }

    static func duplicateKeyHash(_ store: any AgentAuthStore) async throws {
        let agent = makeAgent()
        try await store.insertAgent(agent)
        let key = makeKey(agentID: agent.id)
        try await store.insertAPIKey(key)
        var copy = makeKey(agentID: agent.id)
        copy.keyHash = key.keyHash
        try await expectStoreError(.conflict, "second key with the same hash") { try await store.insertAPIKey(copy) }
    }

    static func revokeKey(_ store: any AgentAuthStore) async throws {
        let agent = makeAgent()
        try await store.insertAgent(agent)
        let key = makeKey(agentID: agent.id)
        try await store.insertAPIKey(key)
        let revoked = try await store.revokeAPIKey(id: key.id, at: time(50))
        try expect(revoked?.status == .revoked && revoked?.revokedAt == time(50), "revoke must set status and time")
        let again = try await store.revokeAPIKey(id: key.id, at: time(90))
        try expect(again?.revokedAt == time(50), "revoking twice keeps the first time")
        try expect(try await store.apiKeyWithAgent(hash: key.keyHash)?.key.status == .revoked, "lookup must see the revocation")
        try expect(try await store.revokeAPIKey(id: "key_doesnotexist000000", at: time(1)) == nil, "unknown key must give nil")
    }

    static func rollKey(_ store: any AgentAuthStore) async throws {
        let agent = makeAgent()
        try await store.insertAgent(agent)
        let old = makeKey(agentID: agent.id, expiresAt: time(10_000))
        try await store.insertAPIKey(old)
        let replacement = makeKey(agentID: agent.id, createdAt: time(100))
        let previous = try await store.rollAPIKey(id: old.id, replacement: replacement, graceUntil: time(160), at: time(100))
        try expect(previous.expiresAt == time(160), "the old key must expire at the end of the grace")
        try expect(previous.replacedBy == replacement.id, "the old key must name its replacement")
        try expect(previous.status == .active, "the old key stays active during the grace")
        try expect(try await store.apiKey(id: replacement.id) == replacement, "the replacement must be stored")
        let events = try await store.revocations(after: 0, limit: 10)
        try expect(events.map(\.subject) == [old.id] && events.first?.kind == .apiKey, "a roll tells verifiers to drop cached results")

        // The grace never lengthens a key's life.
        let shortLived = makeKey(agentID: agent.id, expiresAt: time(120))
        try await store.insertAPIKey(shortLived)
        let shortened = try await store.rollAPIKey(id: shortLived.id, replacement: makeKey(agentID: agent.id), graceUntil: time(5000), at: time(100))
        try expect(shortened.expiresAt == time(120), "roll must not extend the old key's expiry")
    }

    static func rollRefusals(_ store: any AgentAuthStore) async throws {
        let agent = makeAgent()
        try await store.insertAgent(agent)
        let revoked = makeKey(agentID: agent.id)
        try await store.insertAPIKey(revoked)
        _ = try await store.revokeAPIKey(id: revoked.id, at: time(1))
        try await expectStoreError(.conflict, "rolling a revoked key") {
            _ = try await store.rollAPIKey(id: revoked.id, replacement: makeKey(agentID: agent.id), graceUntil: time(10), at: time(5))
        }
        let expired = makeKey(agentID: agent.id, expiresAt: time(2))
        try await store.insertAPIKey(expired)
        try await expectStoreError(.conflict, "rolling an expired key") {
            _ = try await store.rollAPIKey(id: expired.id, replacement: makeKey(agentID: agent.id), graceUntil: time(10), at: time(5))
        }
        let rolled = makeKey(agentID: agent.id)
        try await store.insertAPIKey(rolled)
        _ = try await store.rollAPIKey(id: rolled.id, replacement: makeKey(agentID: agent.id), graceUntil: time(100), at: time(5))
        try await expectStoreError(.conflict, "rolling a key twice") {
            _ = try await store.rollAPIKey(id: rolled.id, replacement: makeKey(agentID: agent.id), graceUntil: time(100), at: time(6))
        }
        try await expectStoreError(.notFound, "rolling a missing key") {
            _ = try await store.rollAPIKey(id: "key_doesnotexist000000", replacement: makeKey(agentID: agent.id), graceUntil: time(100), at: time(6))
        }
    }

    static func rollIsAtomic(_ store: any AgentAuthStore) async throws {
        let agent = makeAgent()
        try await store.insertAgent(agent)
        let other = makeKey(agentID: agent.id)
        try await store.insertAPIKey(other)
        let old = makeKey(agentID: agent.id)
        try await store.insertAPIKey(old)
        var clash = makeKey(agentID: agent.id)
        clash.keyHash = other.keyHash
        do {
            _ = try await store.rollAPIKey(id: old.id, replacement: clash, graceUntil: time(10), at: time(5))
            throw ConformanceFailure(description: "a roll whose replacement clashes must fail")
        } catch is StoreError {}
        try expect(try await store.apiKey(id: old.id) == old, "a failed roll must leave the old key untouched")
        try expect(try await store.apiKey(id: clash.id) == nil, "a failed roll must not store the replacement")
    }

    static func usageBatches(_ store: any AgentAuthStore) async throws {
        let agent = makeAgent()
        try await store.insertAgent(agent)
        let first = makeKey(agentID: agent.id)
        let second = makeKey(agentID: agent.id)
        try await store.insertAPIKey(first)
        try await store.insertAPIKey(second)
        try await store.recordAPIKeyUsage([first.id: time(10), second.id: time(20), "key_doesnotexist000000": time(5)])
        try expect(try await store.apiKey(id: first.id)?.lastUsedAt == time(10), "batch must set the first key's last use")
        try expect(try await store.apiKey(id: second.id)?.lastUsedAt == time(20), "batch must set the second key's last use")
        try await store.recordAPIKeyUsage([first.id: time(5)])
        try expect(try await store.apiKey(id: first.id)?.lastUsedAt == time(10), "last use must not move backwards")
    }

    static func initializeOnce(_ store: any AgentAuthStore) async throws {
        try expect(try await !store.isInitialized(), "a new store is not initialised")
        let admin = makeAgent("admin")
        let key = makeKey(agentID: admin.id, scopes: ["admin"])
        let signingKey = makeSigningKey("kid-1")
        try expect(try await store.initialize(admin: admin, adminKey: key, signingKey: signingKey), "first initialize must report true")
        try expect(try await store.signingKeys() == [signingKey], "initialize must store the first signing key")
        try expect(try await store.isInitialized(), "store must be initialised afterwards")
        let otherAdmin = makeAgent("admin 2")
        let again = try await store.initialize(
            admin: otherAdmin,
            adminKey: makeKey(agentID: otherAdmin.id, scopes: ["admin"]),
            signingKey: makeSigningKey("kid-2")
        )
        try expect(!again, "second initialize must report false")
        try expect(try await store.agent(id: otherAdmin.id) == nil, "second initialize must change nothing")
        try expect(try await store.signingKeys().map(\.kid) == ["kid-1"], "second initialize must not add a signing key")
        try expect(try await store.apiKeyWithAgent(hash: key.keyHash)?.agent == admin, "the bootstrap key must be stored")
        try await store.ping()
    }

    static func keysPerAgent(_ store: any AgentAuthStore) async throws {
        let first = makeAgent("first")
        let second = makeAgent("second")
        try await store.insertAgent(first)
        try await store.insertAgent(second)
        let keys = (0..<3).map { makeKey(agentID: first.id, createdAt: time(Double(3 - $0))) }
        for key in keys { try await store.insertAPIKey(key) }
        try await store.insertAPIKey(makeKey(agentID: second.id))
        let listed = try await store.apiKeys(agentID: first.id)
        try expect(listed.map(\.id) == keys.reversed().map(\.id), "keys must be the agent's own, oldest first")
    }

    // MARK: Clients

    static func clientRoundTrip(_ store: any AgentAuthStore) async throws {
        try expect(try await store.maxClientTokenTTL() == 0, "no clients: max TTL 0")
        let agent = makeAgent()
        try await store.insertAgent(agent)
        var jwtClient = makeClient(agentID: agent.id, ttl: 3600)
        jwtClient.authMethod = .privateKeyJWT
        jwtClient.secretHash = nil
        jwtClient.jwks = #"{"keys":[{"crv":"Ed25519","kty":"OKP","x":"abc"}]}"#
        jwtClient.grantTypes = [.clientCredentials, .tokenExchange]
        let secretClient = makeClient(agentID: agent.id, id: "billing-agent+v2<&>*", ttl: 600)
        try await store.insertClient(jwtClient)
        try await store.insertClient(secretClient)
        try expect(try await store.client(id: jwtClient.clientID) == jwtClient, "fetched client differs from stored client")
        try expect(try await store.client(id: secretClient.clientID) == secretClient, "client ids with special characters round-trip")
        try expect(try await store.client(id: "nope") == nil, "unknown client must be nil")
        try expect(
            Set(try await store.clients(agentID: agent.id).map(\.clientID)) == [jwtClient.clientID, secretClient.clientID],
            "clients per agent"
        )
        try expect(try await store.maxClientTokenTTL() == 3600, "max TTL over all clients")
    }

    static func clientConflicts(_ store: any AgentAuthStore) async throws {
        try await expectStoreError(.notFound, "client for a missing agent") {
            try await store.insertClient(makeClient(agentID: "agt_doesnotexist000000"))
        }
        let agent = makeAgent()
        try await store.insertAgent(agent)
        let client = makeClient(agentID: agent.id)
        try await store.insertClient(client)
        try await expectStoreError(.conflict, "second client with the same id") { try await store.insertClient(client) }
    }

    static func clientSecretRotation(_ store: any AgentAuthStore) async throws {
        let agent = makeAgent()
        try await store.insertAgent(agent)
        let client = makeClient(agentID: agent.id)
        try await store.insertClient(client)
        let newHash = SecretFormat.storageHash(SecretFormat.clientSecret.generate())
        let rotated = try await store.rotateClientSecret(id: client.clientID, newSecretHash: newHash, previousValidUntil: time(500))
        try expect(rotated?.secretHash == newHash, "the new secret is current")
        try expect(rotated?.previousSecretHash == client.secretHash, "the old secret becomes the previous one")
        try expect(rotated?.previousSecretExpiresAt == time(500), "the previous secret's end is stored")
        try expect(
            try await store.rotateClientSecret(id: "nope", newSecretHash: newHash, previousValidUntil: time(1)) == nil,
            "unknown client gives nil"
        )
    }

    static func assertionReplay(_ store: any AgentAuthStore) async throws {
        try expect(try await store.recordAssertionID("jti-1", clientID: "c", expiresAt: time(100), now: time(0)), "first use is accepted")
        try expect(try await !store.recordAssertionID("jti-1", clientID: "c", expiresAt: time(100), now: time(50)), "a replay is refused")
        try expect(try await store.recordAssertionID("jti-1", clientID: "other", expiresAt: time(100), now: time(50)), "jtis are per client")
        try expect(
            try await store.recordAssertionID("jti-1", clientID: "c", expiresAt: time(300), now: time(200)),
            "after expiry the entry is pruned"
        )
    }

    static func signingKeyRotation(_ store: any AgentAuthStore) async throws {
        let first = makeSigningKey("kid-a", createdAt: time(1))
        try await store.insertSigningKey(first)
        let second = makeSigningKey("kid-b", createdAt: time(2))
        try await store.rotateSigningKey(to: second, retiredAt: time(10), publishedUntil: time(1810))
        let keys = try await store.signingKeys()
        try expect(keys.count == 2, "both keys are kept")
        let retired = keys.first { $0.kid == "kid-a" }
        try expect(retired?.status == .retired && retired?.retiredAt == time(10) && retired?.publishedUntil == time(1810), "the old key is retired")
        try expect(keys.first { $0.kid == "kid-b" } == second, "the new key is active and intact")
        try expect(keys.filter { $0.status == .active }.count == 1, "exactly one active key")

        // A rotation whose hand-over comes before an earlier one's: the latest rotation decides.
        try await store.rotateSigningKey(to: makeSigningKey("kid-c", createdAt: time(3)), retiredAt: time(5), publishedUntil: time(1805))
        let handedOver = try await store.signingKeys()
        let byKid = Dictionary(uniqueKeysWithValues: handedOver.map { ($0.kid, $0) })
        try expect(byKid["kid-a"]?.retiredAt == time(5) && byKid["kid-a"]?.publishedUntil == time(1810), "a pending hand-over is brought forward")
        try expect(byKid["kid-b"]?.retiredAt == time(5) && byKid["kid-b"]?.publishedUntil == time(1805), "the active key is retired")
        try await store.rotateSigningKey(to: makeSigningKey("kid-d", createdAt: time(4)), retiredAt: time(50), publishedUntil: time(1850))
        let later = Dictionary(uniqueKeysWithValues: try await store.signingKeys().map { ($0.kid, $0) })
        try expect(later["kid-a"]?.retiredAt == time(5) && later["kid-b"]?.retiredAt == time(5), "a later hand-over moves no earlier one")
        try expect(later["kid-c"]?.retiredAt == time(50) && later["kid-d"]?.status == .active, "the chain goes on")
    }

    static func signingKeyRotationEvents(_ store: any AgentAuthStore) async throws {
        try await store.insertSigningKey(makeSigningKey("kid-a", createdAt: time(1)))
        try expect(try await store.revocations(after: 0, limit: 100).isEmpty, "a first key is no rotation")
        try await store.rotateSigningKey(to: makeSigningKey("kid-b", createdAt: time(2)), retiredAt: time(10), publishedUntil: time(1810))
        let events = try await store.revocations(after: 0, limit: 100)
        try expect(events.map(\.kind) == [.signingKey, .signingKey], "one event for each key: \(events.map(\.kind))")
        try expect(
            events[0].subject == "kid-b" && events[0].at == time(10) && events[0].expiresAt == nil && events[0].agentID == nil,
            "the new key, signing from the hand-over: \(events[0])"
        )
        try expect(
            events[1].subject == "kid-a" && events[1].at == time(10) && events[1].expiresAt == time(1810) && events[1].agentID == nil,
            "the retired key, leaving the JWKS at its published_until: \(events[1])"
        )
        try expect(try await store.revocationBounds().latest == events[1].seq, "the feed's latest seq moves")

        // A rotation that fails (the new kid exists) retires nothing and announces nothing.
        try await expectStoreError(.conflict, "rotating to a kid that exists") {
            try await store.rotateSigningKey(to: makeSigningKey("kid-a", createdAt: time(3)), retiredAt: time(20), publishedUntil: time(1820))
        }
        try expect(try await store.revocations(after: 0, limit: 100).count == 2, "a failed rotation appends no event")
        try expect(
            try await store.latestStoredRevocation() == events[1].seq,
            "the latest stored event, whatever seq the failed rotation may have drawn"
        )
        let keys = try await store.signingKeys()
        try expect(keys.first { $0.kid == "kid-b" }?.status == .active, "a failed rotation keeps the active key")

        // Kept, like key and agent events, until they are older than the pruning horizon.
        try await store.pruneRevocations(expiredBefore: time(5000), olderThan: time(5))
        try expect(try await store.revocations(after: 0, limit: 100).count == 2, "not pruned by their expires_at")
        try await store.pruneRevocations(expiredBefore: time(0), olderThan: time(11))
        try expect(try await store.revocations(after: 0, limit: 100).isEmpty, "pruned by their time")
    }

    // MARK: Revocations and audit

    static func revocationEvents(_ store: any AgentAuthStore) async throws {
        try expect(try await store.revocationBounds() == (0, 0), "an empty feed has bounds 0, 0")
        try expect(try await store.latestStoredRevocation() == 0, "no event stored: 0")
        let agent = makeAgent()
        try await store.insertAgent(agent)
        let key = makeKey(agentID: agent.id)
        try await store.insertAPIKey(key)
        try expect(try await store.revokeToken(jti: "at_1", agentID: agent.id, expiresAt: time(900), at: time(10)), "first revocation is new")
        try expect(try await !store.revokeToken(jti: "at_1", agentID: agent.id, expiresAt: time(900), at: time(11)), "second is not")
        _ = try await store.revokeAPIKey(id: key.id, at: time(20))
        _ = try await store.revokeAPIKey(id: key.id, at: time(21))
        _ = try await store.setAgentStatus(id: agent.id, status: .disabled, at: time(30))
        _ = try await store.setAgentStatus(id: agent.id, status: .active, at: time(31))
        let events = try await store.revocations(after: 0, limit: 100)
        try expect(events.map(\.kind) == [.token, .apiKey, .agent], "one event per revocation, in order: \(events.map(\.kind))")
        try expect(events[0].subject == "at_1" && events[0].expiresAt == time(900) && events[0].agentID == agent.id, "token event fields")
        try expect(events[1].subject == key.id && events[1].agentID == agent.id && events[1].at == time(20), "key event fields")
        try expect(events[2].subject == agent.id && events[2].at == time(30), "agent event carries the watermark")
        try expect(zip(events, events.dropFirst()).allSatisfy { $0.seq < $1.seq }, "seq increases")
        try expect(try await store.revocations(after: events[0].seq, limit: 1).map(\.seq) == [events[1].seq], "after and limit")
        let bounds = try await store.revocationBounds()
        try expect(bounds.oldest == events[0].seq && bounds.latest == events[2].seq, "bounds")
    }

    static func revocationPruning(_ store: any AgentAuthStore) async throws {
        let agent = makeAgent()
        try await store.insertAgent(agent)
        _ = try await store.revokeToken(jti: "old", agentID: agent.id, expiresAt: time(100), at: time(10))
        _ = try await store.revokeToken(jti: "live", agentID: agent.id, expiresAt: time(5000), at: time(20))
        _ = try await store.setAgentStatus(id: agent.id, status: .disabled, at: time(30))
        let latest = try await store.revocationBounds().latest
        try await store.pruneRevocations(expiredBefore: time(200), olderThan: time(25))
        let remaining = try await store.revocations(after: 0, limit: 100).map(\.subject)
        try expect(remaining == ["live", agent.id], "only the expired token entry goes: \(remaining)")
        try expect(try await store.revocationBounds().latest == latest, "pruning never moves the latest seq back")
    }

    static func auditLog(_ store: any AgentAuthStore) async throws {
        let first = (0..<3).map { index in
            AuditEvent(
                time: time(Double(index)),
                type: index == 0 ? AuditChain.initializationType : .keyCreated,
                agentID: "agt_a",
                credentialID: "key_\(index)"
            )
        }
        let key = AuditChainKey(masterKey: MasterKey.generate().key)
        try await store.appendAudit(first, key: key)
        let second = [
            AuditEvent(
                time: time(10),
                type: .tokenIssued,
                agentID: "agt_b",
                credentialID: "cli_1",
                clientAddress: "10.0.0.1",
                requestID: "r1",
                details: ["jti": "at_1"]
            ),
            AuditEvent(time: time(11), type: .apiKeyFailure, clientAddress: "10.0.0.2", outcome: .failure, details: ["count": "7"]),
        ]
        try await store.appendAudit(second, key: key)
        let chain = try await store.auditChain()
        try expect(chain.map(\.seq) == [1, 2, 3, 4, 5], "seq continues across batches")
        try expect(AuditChain.verify(chain, key: key) == nil, "the stored chain verifies")
        try expect(chain[3].details == ["jti": "at_1"] && chain[3].requestID == "r1" && chain[3].clientAddress == "10.0.0.1", "fields round-trip")
        try expect(try await store.auditEvents(AuditFilter(agentID: "agt_a")).map(\.seq) == [3, 2, 1], "by agent, newest first")
        try expect(try await store.auditEvents(AuditFilter(type: .apiKeyFailure)).map(\.outcome) == [.failure], "by type")
        try expect(try await store.auditEvents(AuditFilter(since: time(10))).count == 2, "since")
        try expect(try await store.auditEvents(AuditFilter(limit: 2)).map(\.seq) == [5, 4], "limit")
    }

    static func delegationPolicy(_ store: any AgentAuthStore) async throws {
        let agent = makeAgent()
        try await store.insertAgent(agent)
        try expect(try await store.delegationPolicy(agentID: agent.id) == nil, "no policy: any agent may act")
        try expect(try await store.setDelegationPolicy(agentID: agent.id, mayAct: ["agt_a", "agt_b"]), "policy stored")
        try expect(try await store.delegationPolicy(agentID: agent.id) == ["agt_a", "agt_b"], "the list round-trips")
        _ = try await store.setDelegationPolicy(agentID: agent.id, mayAct: [])
        try expect(try await store.delegationPolicy(agentID: agent.id) == [], "an empty list allows nobody")
        _ = try await store.setDelegationPolicy(agentID: agent.id, mayAct: nil)
        try expect(try await store.delegationPolicy(agentID: agent.id) == nil, "nil allows any agent again")
        try expect(try await !store.setDelegationPolicy(agentID: "agt_doesnotexist000000", mayAct: nil), "unknown agent")
    }

    static func auditedChanges(_ store: any AgentAuthStore) async throws {
        let chainKey = AuditChainKey(masterKey: MasterKey.generate().key)
        func audit(_ type: String) -> AuditRecord {
            AuditRecord(events: [AuditEvent(time: time(0), type: AuditEventType(rawValue: type), details: ["via": "test"])], key: chainKey)
        }
        func expectChain(_ types: [String], _ message: String) async throws {
            let chain = try await store.auditChain()
            try expect(chain.map(\.type.rawValue) == types, "\(message): \(chain.map(\.type.rawValue))")
            try expect(AuditChain.verify(chain, key: chainKey) == nil, "\(message): the chain verifies")
        }
        let admin = makeAgent("admin")
        let adminKey = makeKey(agentID: admin.id)
        try expect(
            try await store.initialize(
                admin: admin,
                adminKey: adminKey,
                signingKey: makeSigningKey("k0"),
                audit: audit(AuditChain.initializationType.rawValue)
            ),
            "initialised"
        )
        var types = [AuditChain.initializationType.rawValue]
        try expect(
            try await !store.initialize(
                admin: makeAgent(),
                adminKey: makeKey(agentID: admin.id),
                signingKey: makeSigningKey("k1"),
                audit: audit("x")
            ),
            "a second initialise changes nothing"
        )
        try await expectChain(types, "no event for the refused initialise")

        let agent = makeAgent()
        try await store.insertAgent(agent, audit: audit("agent.created"))
        types.append("agent.created")
        try await expectStoreError(.conflict, "duplicate agent") { try await store.insertAgent(agent, audit: audit("duplicate")) }
        try await expectChain(types, "no event for a refused insert")

        let key = makeKey(agentID: agent.id)
        try await store.insertAPIKey(key, audit: audit("key.created"))
        try await expectStoreError(.notFound, "key of a missing agent") {
            try await store.insertAPIKey(makeKey(agentID: "agt_doesnotexist000000"), audit: audit("orphan"))
        }
        try expect(try await store.revokeAPIKey(id: "key_doesnotexist000000", at: time(1), audit: audit("missing")) == nil, "unknown key")
        _ = try await store.revokeAPIKey(id: key.id, at: time(1), audit: audit("key.revoked"))
        try await expectStoreError(.conflict, "roll of a revoked key") {
            _ = try await store.rollAPIKey(
                id: key.id,
                replacement: makeKey(agentID: agent.id),
                graceUntil: time(2),
                at: time(2),
                audit: audit("rolled")
            )
        }
        let live = makeKey(agentID: agent.id)
        try await store.insertAPIKey(live, audit: nil)
        _ = try await store.rollAPIKey(
            id: live.id,
            replacement: makeKey(agentID: agent.id),
            graceUntil: time(3),
            at: time(3),
            audit: audit("key.rolled")
        )
        types += ["key.created", "key.revoked", "key.rolled"]
        try await expectChain(types, "keys")

        try expect(
            try await store.setAgentStatus(id: "agt_doesnotexist000000", status: .disabled, at: time(4), audit: audit("x")) == nil,
            "unknown agent"
        )
        _ = try await store.setAgentStatus(id: agent.id, status: .disabled, at: time(4), audit: audit("agent.disabled"))
        try expect(try await !store.setDelegationPolicy(agentID: "agt_doesnotexist000000", mayAct: nil, audit: audit("x")), "unknown agent")
        _ = try await store.setDelegationPolicy(agentID: agent.id, mayAct: [], audit: audit("agent.delegation_policy"))
        types += ["agent.disabled", "agent.delegation_policy"]

        let client = makeClient(agentID: admin.id)
        try await store.insertClient(client, audit: audit("client.created"))
        try await expectStoreError(.conflict, "taken client id") { try await store.insertClient(client, audit: audit("x")) }
        try expect(
            try await store.rotateClientSecret(
                id: "cli_doesnotexist",
                newSecretHash: String(repeating: "b", count: 64),
                previousValidUntil: time(5),
                audit: audit("x")
            )
                == nil,
            "unknown client"
        )
        _ = try await store.rotateClientSecret(
            id: client.clientID,
            newSecretHash: String(repeating: "b", count: 64),
            previousValidUntil: time(5),
            audit: audit("client.secret_rotated")
        )
        try await store.rotateSigningKey(
            to: makeSigningKey("k2", createdAt: time(6)),
            retiredAt: time(6),
            publishedUntil: time(600),
            audit: audit("signing_key.rotated")
        )
        try expect(
            try await store.revokeToken(jti: "at_1", agentID: agent.id, expiresAt: time(900), at: time(7), audit: audit("token.revoked")),
            "revoked"
        )
        try expect(try await !store.revokeToken(jti: "at_1", agentID: agent.id, expiresAt: time(900), at: time(8), audit: audit("again")), "once")
        types += ["client.created", "client.secret_rotated", "signing_key.rotated", "token.revoked"]
        try await expectChain(types, "every change once, refusals none")
    }
}
