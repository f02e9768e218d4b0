public import Foundation

/// Turns a presented API key into an identity: shape and checksum → hash → store →
/// key status and expiry → agent status. A key of the wrong shape never reaches the store.
public struct APIKeyVerifier: Sendable {
    let store: any APIKeyStore
    let usage: KeyUsageRecorder?
    let now: @Sendable () -> Date

    public init(store: any APIKeyStore, usage: KeyUsageRecorder? = nil, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.usage = usage
        self.now = now
    }

    /// Verifies `presented` and returns who it belongs to.
    /// - Throws: `CredentialRejection` for any key that must not be accepted; store errors as they are.
    public func verify(_ presented: String) async throws -> AgentIdentity {
        try await verifiedKey(presented).identity
    }

    /// As `verify`, also returning the stored key (introspection reports its times).
    public func verifiedKey(_ presented: String) async throws -> (identity: AgentIdentity, key: APIKey) {
        let (key, agent) = try await lookUp(presented)
        let now = self.now()
        guard key.status == .active else { throw CredentialRejection.revoked }
        guard !key.isExpired(at: now) else { throw CredentialRejection.expired }
        guard agent.status == .active else { throw CredentialRejection.agentDisabled }
        usage?.record(keyID: key.id, at: now)
        return (AgentIdentity(agentID: agent.id, credentialID: key.id, kind: .apiKey, scopes: key.scopes), key)
    }

    /// The stored key and its agent, whatever their state.
    public func lookUp(_ presented: String) async throws -> (key: APIKey, agent: Agent) {
        guard SecretFormat.apiKey.isWellFormed(presented) else { throw CredentialRejection.malformed }
        guard let found = try await store.apiKeyWithAgent(hash: SecretFormat.storageHash(presented)) else {
            throw CredentialRejection.unknown
        }
        return found
    }
}
