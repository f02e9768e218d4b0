public import Foundation

/// Everything AgentAuth keeps. Each method is one transaction: an admin change is either
/// stored whole or not at all. Implementations: `SQLiteStore` (embedded, default) and,
/// later, a PostgreSQL store; every implementation passes the shared conformance suite.
public protocol AgentAuthStore: AgentStore, APIKeyStore, OAuthClientStore, SigningKeyStore, RevocationStore, AuditStore {
    /// Succeeds when the store can serve requests; used by `/readyz`.
    func ping() async throws

    /// Whether `initialize` has already run on this store.
    func isInitialized() async throws -> Bool

    /// Stores the bootstrap admin agent, its key and the first signing key, and marks the store
    /// initialised, all in one transaction. Returns `false`, changing nothing, when the store
    /// was already initialised.
    func initialize(admin: Agent, adminKey: APIKey, signingKey: SigningKey) async throws -> Bool

    /// A client and its agent (`nil` when either is missing). Client authentication needs both on
    /// every token request: a store that can should read them in one go.
    func clientWithAgent(id: String) async throws -> (client: OAuthClient, agent: Agent)?
}

extension AgentAuthStore {
    public func clientWithAgent(id: String) async throws -> (client: OAuthClient, agent: Agent)? {
        guard let client = try await client(id: id), let agent = try await agent(id: client.agentID) else { return nil }
        return (client, agent)
    }
}

/// Agents.
public protocol AgentStore: Sendable {
    /// Throws `StoreError.conflict` when the id is taken.
    func insertAgent(_ agent: Agent) async throws
    func agent(id: String) async throws -> Agent?
    /// Agents oldest first.
    func agents(limit: Int, offset: Int) async throws -> [Agent]
    /// Sets the status; disabling also moves the `disabledAt` watermark to `at` and appends an
    /// `.agent` revocation event, in the same transaction.
    /// Returns the updated agent, or `nil` when there is no such agent.
    func setAgentStatus(id: String, status: Agent.Status, at: Date) async throws -> Agent?
    /// Sets which agents may act for this one in token exchange (`nil`: any agent). Returns
    /// `false` when there is no such agent.
    func setDelegationPolicy(agentID: String, mayAct: [String]?) async throws -> Bool
    /// The agents that may act for this one, or `nil` when any may.
    func delegationPolicy(agentID: String) async throws -> [String]?
}

/// API keys.
public protocol APIKeyStore: Sendable {
    /// Throws `StoreError.notFound` when the agent does not exist, `.conflict` on a duplicate id or hash.
    func insertAPIKey(_ key: APIKey) async throws
    func apiKey(id: String) async throws -> APIKey?
    /// An agent's keys, oldest first.
    func apiKeys(agentID: String) async throws -> [APIKey]
    /// The key with this storage hash and its agent, read together: the verification hot path.
    func apiKeyWithAgent(hash: String) async throws -> (key: APIKey, agent: Agent)?
    /// Marks the key revoked and appends an `.apiKey` revocation event, in one transaction.
    /// Returns the updated key, or `nil` when there is no such key. Revoking a revoked key keeps
    /// its first revocation time and appends nothing.
    func revokeAPIKey(id: String, at: Date) async throws -> APIKey?
    /// In one transaction: inserts `replacement`, shortens the old key's expiry to `graceUntil`
    /// (never lengthens it), links it to its replacement and appends an `.apiKey` revocation
    /// event (so cached results are dropped and the new expiry applies). Throws `.notFound` when the old key
    /// does not exist and `.conflict` when it is revoked, expired or already rolled.
    func rollAPIKey(id: String, replacement: APIKey, graceUntil: Date, at: Date) async throws -> APIKey
    /// Writes a batch of last-used times; a time never moves backwards.
    func recordAPIKeyUsage(_ usage: [String: Date]) async throws
}
