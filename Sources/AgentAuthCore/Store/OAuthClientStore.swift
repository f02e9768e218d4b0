public import Foundation

/// OAuth clients and the replay cache of their `private_key_jwt` assertions.
public protocol OAuthClientStore: Sendable {
    /// Throws `StoreError.notFound` when the agent or the tier does not exist, `.conflict` when the client id is taken.
    func insertClient(_ client: OAuthClient, audit: AuditRecord?) async throws
    func client(id: String) async throws -> OAuthClient?
    /// An agent's clients, oldest first.
    func clients(agentID: String) async throws -> [OAuthClient]
    /// Writes the client's changeable fields (`name`, `scopes`, `rateLimit`) and nothing else, and
    /// appends a `.limits` feed event, in one transaction. Throws `StoreError.notFound` when the
    /// tier is not defined. Returns the stored client, `nil` when there is none.
    /// With `previous`: `StoreError.changedMeanwhile` as for agents.
    func updateClient(_ client: OAuthClient, expecting previous: OAuthClient?, at: Date, audit: AuditRecord?) async throws -> OAuthClient?
    /// Sets the status; disabling also moves the `disabledAt` watermark to `at` and appends a
    /// `.client` feed event, in one transaction (its tokens issued until then are refused
    /// everywhere). Returns the updated client, `nil` when there is none.
    func setClientStatus(id: String, status: OAuthClient.Status, at: Date, audit: AuditRecord?) async throws -> OAuthClient?
    /// Appends a `.client` feed event at `at` (every token of the client issued until then is
    /// refused everywhere) without changing the client, in one transaction. Returns the client,
    /// `nil` when there is none.
    func revokeClientTokens(id: String, at: Date, audit: AuditRecord?) async throws -> OAuthClient?
    /// Deletes the client and appends a `.client` feed event at `at`, in one transaction. Returns
    /// the deleted client, `nil` when there was none.
    func deleteClient(id: String, at: Date, audit: AuditRecord?) async throws -> OAuthClient?
    /// In one transaction: the current secret becomes the previous one (valid until
    /// `previousValidUntil`) and `newSecretHash` the current one. Returns the updated client,
    /// `nil` when there is no such client.
    func rotateClientSecret(id: String, newSecretHash: String, previousValidUntil: Date, audit: AuditRecord?) async throws -> OAuthClient?
    /// The longest `token_ttl` of any client (0 when there are none): how long a retired signing key must stay published.
    func maxClientTokenTTL() async throws -> Int
    /// Records a client assertion's `jti` until `expiresAt`. Returns `false` when it was already
    /// recorded and has not expired (a replay). Expired entries are pruned on the way.
    func recordAssertionID(_ jti: String, clientID: String, expiresAt: Date, now: Date) async throws -> Bool
}

/// Token-signing keys.
public protocol SigningKeyStore: Sendable {
    func insertSigningKey(_ key: SigningKey) async throws
    /// Every stored key, whatever its state.
    func signingKeys() async throws -> [SigningKey]
    /// In one transaction: the active key is retired at `retiredAt` and stays published until
    /// `publishedUntil`; a retired key whose hand-over is still to come after `retiredAt` (an
    /// earlier rotation's activation delay) stops signing at `retiredAt` too, since the latest
    /// rotation decides; `newKey` becomes the active key; and two `.signingKey` feed events tell
    /// verifiers: `newKey.kid` at `retiredAt` (fetch it), then the retired kid at `retiredAt`
    /// with `expiresAt` = `publishedUntil` (stop trusting it then).
    func rotateSigningKey(to newKey: SigningKey, retiredAt: Date, publishedUntil: Date, audit: AuditRecord?) async throws
}
