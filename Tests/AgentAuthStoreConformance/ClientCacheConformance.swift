public import AgentAuthCore
import Foundation
import Synchronization

/// One case of the client cache conformance suite: the token endpoint's `ClientAgentCache` over
/// a real store (`node`, the server's), with changes made through it and through `other`, a
/// second store on the same database (another process on a SQLite file, another node on
/// PostgreSQL). Each runs on a fresh database.
public struct ClientCacheConformanceCase: Sendable, CustomStringConvertible {
    public let description: String
    let body: @Sendable (ClientCacheConformance.Pair) async throws -> Void

    public func run(node: any AgentAuthStore & StoreChangeCounter, other: any AgentAuthStore, othersSeenAtOnce: Bool) async throws {
        try await body(ClientCacheConformance.Pair(node: node, other: other, othersSeenAtOnce: othersSeenAtOnce))
    }
}

/// Every store that gives a change signal (`StoreChangeCounter`) passes these: a kept client is
/// served without a store read while nothing changes, and every change that matters to a token
/// request (an agent or client disabled, re-enabled, a secret rotated, a client changed or
/// deleted) is seen by the next request, made here or elsewhere.
public enum ClientCacheConformance {
    public struct Pair: Sendable {
        let node: any AgentAuthStore & StoreChangeCounter
        let other: any AgentAuthStore
        /// SQLite: another connection's commit moves the count at once. PostgreSQL: once the
        /// change's notification has arrived (a hop on the network).
        let othersSeenAtOnce: Bool
    }

    public static let cases: [ClientCacheConformanceCase] = [
        .init(description: "a kept client costs no store read until something changes", body: keptWithoutReads),
        .init(description: "this node's changes are seen by its very next lookup", body: ownChanges),
        .init(description: "changes through another process or node are seen by the next lookup once signalled", body: othersChanges),
    ]

    static func expect(_ condition: Bool, _ message: String) throws {
        try StoreConformance.expect(condition, message)
    }

    /// A client of a new agent, with the secret that authenticates it.
    static func makeClient(in store: any AgentAuthStore) async throws -> (client: OAuthClient, secret: String) {
        let created = StoreConformance.time(0)
        let agent = Agent(id: Identifier.make(prefix: Identifier.agentPrefix), name: "cached", status: .active, createdAt: created)
        try await store.insertAgent(agent)
        let secret = SecretFormat.clientSecret.generate()
        let client = OAuthClient(
            clientID: Identifier.make(prefix: "cli_"),
            agentID: agent.id,
            scopes: try ScopeSet(parsing: "billing:read conversations:read"),
            audiences: ["agentauth"],
            tokenTTL: 600,
            grantTypes: [.clientCredentials],
            authMethod: .clientSecretPost,
            jwks: nil,
            secretHash: SecretFormat.storageHash(secret),
            createdAt: created
        )
        try await store.insertClient(client)
        return (client, secret)
    }

    static func authenticator(_ store: any AgentAuthStore, _ cache: ClientAgentCache) -> ClientAuthenticator {
        ClientAuthenticator(store: store, issuer: "https://auth.test", tokenEndpoint: "https://auth.test/oauth/token", cache: cache)
    }

    /// The failure reason of authenticating, `nil` when it succeeds.
    static func refusal(
        _ authenticator: ClientAuthenticator,
        _ clientID: String,
        _ secret: String
    ) async throws -> ClientAuthenticationFailure.Reason? {
        do {
            _ = try await authenticator.authenticate(.post(clientID: clientID, secret: secret))
            return nil
        } catch let failure as ClientAuthenticationFailure {
            return failure.reason
        }
    }

    /// Waits until the node's change count has moved from `before` (at once, when `atOnce`).
    static func signalled(_ node: any StoreChangeCounter, since before: UInt64?, atOnce: Bool, _ what: String) async throws {
        let start = ContinuousClock.now
        while node.changeCount() == before || node.changeCount() == nil {
            if atOnce { throw ConformanceFailure(description: "\(what): the change count did not move at once") }
            guard ContinuousClock.now - start < .seconds(5) else {
                throw ConformanceFailure(description: "\(what): the change count did not move within 5 s")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Waits (at most 5 s) until the store can tell changes: PostgreSQL only once it listens.
    static func counting(_ node: any StoreChangeCounter) async throws {
        let start = ContinuousClock.now
        while node.changeCount() == nil {
            guard ContinuousClock.now - start < .seconds(5) else { throw ConformanceFailure(description: "the store never gave a change count") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    static func keptWithoutReads(_ pair: Pair) async throws {
        try await counting(pair.node)
        let (client, _) = try await makeClient(in: pair.node)
        let cache = ClientAgentCache(counter: pair.node)
        let reads = Atomic<Int>(0)
        @Sendable func lookUp(_ id: String) async throws -> (client: OAuthClient, agent: Agent)? {
            try await cache.clientWithAgent(id: id) { id in
                reads.add(1, ordering: .relaxed)
                return try await pair.node.clientWithAgent(id: id)
            }
        }
        let first = try await lookUp(client.clientID)
        try expect(first?.client == client, "the first lookup reads the client")
        for _ in 0..<5 {
            try expect(try await lookUp(client.clientID)?.client == client, "a kept client is answered as stored")
        }
        try expect(reads.load(ordering: .relaxed) == 1, "five more lookups read nothing (\(reads.load(ordering: .relaxed)) reads)")
        for _ in 0..<3 { try expect(try await lookUp("cli_unknown") == nil, "an unknown client is nil") }
        try expect(reads.load(ordering: .relaxed) == 4, "an unknown client is read each time, never kept")
        try expect(cache.keptCount.clients == 1, "only the found client is kept")

        let before = pair.node.changeCount()
        _ = try await pair.node.setAgentStatus(id: client.agentID, status: .disabled, at: Date())
        try await signalled(pair.node, since: before, atOnce: true, "a change here")
        try expect(try await lookUp(client.clientID)?.agent.status == .disabled, "after a change the client is read again")
        try expect(reads.load(ordering: .relaxed) == 5, "one read after the change")
    }

    static func ownChanges(_ pair: Pair) async throws {
        try await counting(pair.node)
        let store = pair.node
        let (client, secret) = try await makeClient(in: store)
        let authenticator = authenticator(store, ClientAgentCache(counter: store))
        let id = client.clientID
        try expect(try await refusal(authenticator, id, secret) == nil, "the client authenticates")
        try expect(try await refusal(authenticator, id, secret) == nil, "and again, from the cache")

        _ = try await store.setAgentStatus(id: client.agentID, status: .disabled, at: Date())
        try expect(try await refusal(authenticator, id, secret) == .agentDisabled, "the agent's disable stops the next request")
        _ = try await store.setAgentStatus(id: client.agentID, status: .active, at: Date())
        try expect(try await refusal(authenticator, id, secret) == nil, "re-enabled, it authenticates again")

        _ = try await store.setClientStatus(id: id, status: .disabled, at: Date(), audit: nil)
        try expect(try await refusal(authenticator, id, secret) == .clientDisabled, "the client's disable stops the next request")
        _ = try await store.setClientStatus(id: id, status: .active, at: Date(), audit: nil)
        try expect(try await refusal(authenticator, id, secret) == nil, "re-enabled, it authenticates again")

        let newSecret = SecretFormat.clientSecret.generate()
        _ = try await store.rotateClientSecret(id: id, newSecretHash: SecretFormat.storageHash(newSecret), previousValidUntil: Date())
        try expect(try await refusal(authenticator, id, secret) == .wrongSecret, "the rotated-out secret is refused at once")
        try expect(try await refusal(authenticator, id, newSecret) == nil, "the new secret authenticates")

        var narrowed = client
        narrowed.scopes = try ScopeSet(parsing: "billing:read")
        _ = try await store.updateClient(narrowed, at: Date(), audit: nil)
        let updated = try await authenticator.authenticate(.post(clientID: id, secret: newSecret))
        try expect(updated.client.scopes == narrowed.scopes, "a PATCH of the client is seen by the next request")

        _ = try await store.deleteClient(id: id, at: Date(), audit: nil)
        try expect(try await refusal(authenticator, id, newSecret) == .unknownClient, "a deleted client is unknown at once")
    }

    static func othersChanges(_ pair: Pair) async throws {
        try await counting(pair.node)
        let (node, other, atOnce) = (pair.node, pair.other, pair.othersSeenAtOnce)
        let (client, secret) = try await makeClient(in: other)
        let authenticator = authenticator(node, ClientAgentCache(counter: node))
        let id = client.clientID
        try expect(try await refusal(authenticator, id, secret) == nil, "the client authenticates")
        try expect(try await refusal(authenticator, id, secret) == nil, "and again, from the cache")

        func change(_ what: String, _ body: () async throws -> Void) async throws {
            let before = node.changeCount()
            try await body()
            try await signalled(node, since: before, atOnce: atOnce, what)
        }
        try await change("an agent disabled elsewhere") { _ = try await other.setAgentStatus(id: client.agentID, status: .disabled, at: Date()) }
        try expect(try await refusal(authenticator, id, secret) == .agentDisabled, "an agent disabled elsewhere is refused")
        try await change("an agent enabled elsewhere") { _ = try await other.setAgentStatus(id: client.agentID, status: .active, at: Date()) }
        try expect(try await refusal(authenticator, id, secret) == nil, "re-enabled elsewhere, it authenticates")

        try await change("a client disabled elsewhere") { _ = try await other.setClientStatus(id: id, status: .disabled, at: Date(), audit: nil) }
        try expect(try await refusal(authenticator, id, secret) == .clientDisabled, "a client disabled elsewhere is refused")
        try await change("a client enabled elsewhere") { _ = try await other.setClientStatus(id: id, status: .active, at: Date(), audit: nil) }
        try expect(try await refusal(authenticator, id, secret) == nil, "re-enabled elsewhere, it authenticates")

        let newSecret = SecretFormat.clientSecret.generate()
        try await change("a secret rotated elsewhere") {
            _ = try await other.rotateClientSecret(id: id, newSecretHash: SecretFormat.storageHash(newSecret), previousValidUntil: Date())
        }
        try expect(try await refusal(authenticator, id, secret) == .wrongSecret, "a secret rotated out elsewhere is refused")
        try expect(try await refusal(authenticator, id, newSecret) == nil, "the new secret authenticates")

        try await change("a client deleted elsewhere") { _ = try await other.deleteClient(id: id, at: Date(), audit: nil) }
        try expect(try await refusal(authenticator, id, newSecret) == .unknownClient, "a client deleted elsewhere is unknown")
    }
}
