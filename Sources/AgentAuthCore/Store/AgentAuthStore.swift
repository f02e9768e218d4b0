public import Foundation

/// Everything AgentAuth keeps. Each method is one transaction: an admin change is either
/// stored whole or not at all, together with its audit events (`audit:`), which are appended to
/// the chain only when the change was made (the method did not throw, and did not answer `nil`
/// or `false`). Implementations: `SQLiteStore` (embedded, default) and `PostgresStore`; every
/// implementation passes the shared conformance suite. Both are also swift-service-lifecycle
/// `Service`s (this module does not depend on it): whoever opens a store runs it in a
/// `ServiceGroup`, before anything uses it, and stops it after.
public protocol AgentAuthStore: AgentStore, APIKeyStore, OAuthClientStore, SigningKeyStore, RevocationStore, AuditStore, LimitsStore, VerifierStore {
    /// Succeeds when the store can serve requests; used by `/readyz`.
    func ping() async throws

    /// Whether `initialize` has already run on this store.
    func isInitialized() async throws -> Bool

    /// Stores the bootstrap admin agent, its key and the first signing key, and marks the store
    /// initialised, all in one transaction with `audit` (the chain's first event, which
    /// `agentauth audit verify` requires). Returns `false`, changing nothing, when the store was
    /// already initialised.
    func initialize(admin: Agent, adminKey: APIKey, signingKey: SigningKey, audit: AuditRecord?) async throws -> Bool

    /// A client and its agent (`nil` when either is missing), read in one query: client
    /// authentication needs both on every token request.
    func clientWithAgent(id: String) async throws -> (client: OAuthClient, agent: Agent)?
}

/// Agents.
public protocol AgentStore: Sendable {
    /// Throws `StoreError.conflict` when the id is taken, `.notFound` when its tier is not defined.
    func insertAgent(_ agent: Agent, audit: AuditRecord?) async throws
    func agent(id: String) async throws -> Agent?
    /// Agents oldest first.
    func agents(limit: Int, offset: Int) async throws -> [Agent]
    /// Sets the status; disabling also moves the `disabledAt` watermark to `at` and appends an
    /// `.agent` revocation event, in the same transaction.
    /// Returns the updated agent, or `nil` when there is no such agent.
    func setAgentStatus(id: String, status: Agent.Status, at: Date, audit: AuditRecord?) async throws -> Agent?
    /// Writes the agent's changeable fields (`name`, `rateLimit`, `quota`) and nothing else, and
    /// appends a `.limits` feed event, in one transaction. A changed quota is checked against this
    /// period's usage at once: the agent's exhaustions are dropped and, when the new quota is used
    /// up too, recorded again with a `.quota` event. Throws `StoreError.notFound` when the tier is
    /// not defined (`unlimited` needs no definition). Returns the stored agent, `nil` when there is none.
    /// With `previous` (the agent as the change was made from): throws `StoreError.changedMeanwhile`,
    /// changing nothing, when the stored changeable fields differ from it, so that two concurrent
    /// updates never undo each other.
    func updateAgent(_ agent: Agent, expecting previous: Agent?, at: Date, audit: AuditRecord?) async throws -> Agent?
    /// Sets which agents may act for this one in token exchange (`nil`: any agent). Returns
    /// `false` when there is no such agent.
    func setDelegationPolicy(agentID: String, mayAct: [String]?, audit: AuditRecord?) async throws -> Bool
    /// The agents that may act for this one, or `nil` when any may.
    func delegationPolicy(agentID: String) async throws -> [String]?
}

/// API keys.
public protocol APIKeyStore: Sendable {
    /// Throws `StoreError.notFound` when the agent or the tier does not exist, `.conflict` on a duplicate id or hash.
    func insertAPIKey(_ key: APIKey, audit: AuditRecord?) async throws
    func apiKey(id: String) async throws -> APIKey?
    /// An agent's keys, oldest first.
    func apiKeys(agentID: String) async throws -> [APIKey]
    /// The key with this storage hash and its agent, read together: the verification hot path.
    func apiKeyWithAgent(hash: String) async throws -> (key: APIKey, agent: Agent)?
    /// Marks the key revoked and appends an `.apiKey` revocation event, in one transaction.
    /// Returns the updated key, or `nil` when there is no such key. Revoking a revoked key keeps
    /// its first revocation time and appends nothing.
    func revokeAPIKey(id: String, at: Date, audit: AuditRecord?) async throws -> APIKey?
    /// In one transaction: inserts `replacement`, shortens the old key's expiry to `graceUntil`
    /// (never lengthens it), links it to its replacement and appends an `.apiKey` revocation
    /// event (so cached results are dropped and the new expiry applies). Throws `.notFound` when the old key
    /// does not exist and `.conflict` when it is revoked, expired or already rolled.
    func rollAPIKey(id: String, replacement: APIKey, graceUntil: Date, at: Date, audit: AuditRecord?) async throws -> APIKey
    /// Writes the key's changeable fields (`name`, `scopes`, `rateLimit`, `quota`) and nothing else,
    /// and appends an `.apiKey` feed event (cached results, with their scopes, are dropped) and a
    /// `.limits` event, in one transaction; a changed quota is re-checked as for agents. Throws
    /// `StoreError.notFound` when the tier is not defined. Returns the stored key, `nil` when there is none.
    /// With `previous`: `StoreError.changedMeanwhile` as for agents.
    func updateAPIKey(_ key: APIKey, expecting previous: APIKey?, at: Date, audit: AuditRecord?) async throws -> APIKey?
    /// Writes a batch of last-used times; a time never moves backwards.
    func recordAPIKeyUsage(_ usage: [String: Date]) async throws
}

/// The same changes without an audit event: for seeding stores in tests and benchmarks. Admin
/// changes go through the administration services, which always pass their event.
extension AgentAuthStore {
    public func initialize(admin: Agent, adminKey: APIKey, signingKey: SigningKey) async throws -> Bool {
        try await initialize(admin: admin, adminKey: adminKey, signingKey: signingKey, audit: nil)
    }

    public func insertAgent(_ agent: Agent) async throws {
        try await insertAgent(agent, audit: nil)
    }

    public func updateAgent(_ agent: Agent, at: Date, audit: AuditRecord?) async throws -> Agent? {
        try await updateAgent(agent, expecting: nil, at: at, audit: audit)
    }

    public func updateAPIKey(_ key: APIKey, at: Date, audit: AuditRecord?) async throws -> APIKey? {
        try await updateAPIKey(key, expecting: nil, at: at, audit: audit)
    }

    public func updateClient(_ client: OAuthClient, at: Date, audit: AuditRecord?) async throws -> OAuthClient? {
        try await updateClient(client, expecting: nil, at: at, audit: audit)
    }

    public func setAgentStatus(id: String, status: Agent.Status, at: Date) async throws -> Agent? {
        try await setAgentStatus(id: id, status: status, at: at, audit: nil)
    }

    public func setDelegationPolicy(agentID: String, mayAct: [String]?) async throws -> Bool {
        try await setDelegationPolicy(agentID: agentID, mayAct: mayAct, audit: nil)
    }

    public func insertAPIKey(_ key: APIKey) async throws {
        try await insertAPIKey(key, audit: nil)
    }

    public func revokeAPIKey(id: String, at: Date) async throws -> APIKey? {
        try await revokeAPIKey(id: id, at: at, audit: nil)
    }

    public func rollAPIKey(id: String, replacement: APIKey, graceUntil: Date, at: Date) async throws -> APIKey {
        try await rollAPIKey(id: id, replacement: replacement, graceUntil: graceUntil, at: at, audit: nil)
    }

    public func insertClient(_ client: OAuthClient) async throws {
        try await insertClient(client, audit: nil)
    }

    public func rotateClientSecret(id: String, newSecretHash: String, previousValidUntil: Date) async throws -> OAuthClient? {
        try await rotateClientSecret(id: id, newSecretHash: newSecretHash, previousValidUntil: previousValidUntil, audit: nil)
    }

    public func rotateSigningKey(to newKey: SigningKey, retiredAt: Date, publishedUntil: Date) async throws {
        try await rotateSigningKey(to: newKey, retiredAt: retiredAt, publishedUntil: publishedUntil, audit: nil)
    }

    public func revokeToken(jti: String, agentID: String, expiresAt: Date, at: Date) async throws -> Bool {
        try await revokeToken(jti: jti, agentID: agentID, expiresAt: expiresAt, at: at, audit: nil)
    }
}
