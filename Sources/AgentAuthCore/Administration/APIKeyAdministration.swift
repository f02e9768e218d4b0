public import Foundation

/// The admin operations on API keys, shared by the HTTP admin API, `/oauth/revoke` and the CLI.
/// Every change is stored in one transaction with its audit event, made for the `AuditActor`
/// that asked for it.
public struct APIKeyAdministration: Sendable {
    public let store: any AgentAuthStore
    let now: @Sendable () -> Date

    /// Longest key lifetime and roll grace accepted, in seconds (10 years and 30 days).
    public static let maxExpiresIn = 10 * 365 * 24 * 3600
    public static let maxGraceSeconds = 30 * 24 * 3600
    /// Longest key name accepted.
    public static let maxKeyNameLength = 200

    public init(store: any AgentAuthStore, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.now = now
    }

    var agents: AgentAdministration { AgentAdministration(store: store, now: now) }

    public func createAPIKey(agentID: String, _ request: APIKeyRequest, by actor: AuditActor) async throws -> IssuedAPIKey {
        let scopes: ScopeSet
        do {
            scopes = try ScopeSet(validating: request.scopes)
        } catch {
            throw AdministrationError.invalidRequest("scopes: \(error)")
        }
        let name = try request.name.map { try AgentAdministration.validatedName($0, field: "name", maxLength: Self.maxKeyNameLength) }
        let rateLimit = try request.rateLimit.map(Self.validatedTierName)
        let created = now()
        var expiresAt: Date?
        if let expiresIn = request.expiresIn {
            guard (1...Self.maxExpiresIn).contains(expiresIn) else {
                throw AdministrationError.invalidRequest("expires_in must be between 1 and \(Self.maxExpiresIn) seconds")
            }
            expiresAt = created.addingTimeInterval(TimeInterval(expiresIn))
        }
        let agent = try await agents.agent(id: agentID)
        guard agent.status == .active else { throw AdministrationError.conflict("agent is disabled") }
        let key = Self.makeKey(agentID: agent.id, name: name, scopes: scopes, rateLimit: rateLimit, expiresAt: expiresAt, createdAt: created)
        let audit = actor.record(.keyCreated, agentID: agent.id, credentialID: key.record.id, details: ["scope": scopes.description], at: created)
        try await AdministrationError.mappingStoreErrors { try await store.insertAPIKey(key.record, audit: audit) }
        return key
    }

    public func apiKeys(agentID: String) async throws -> [APIKey] {
        let agent = try await agents.agent(id: agentID)
        return try await store.apiKeys(agentID: agent.id)
    }

    public func apiKey(id: String) async throws -> APIKey {
        guard Identifier.isValid(id, prefix: Identifier.apiKeyPrefix), let key = try await store.apiKey(id: id) else {
            throw AdministrationError.notFound("no such key")
        }
        return key
    }

    public func revokeAPIKey(id: String, by actor: AuditActor) async throws -> APIKey {
        let existing = try await apiKey(id: id)
        let at = now()
        let audit = actor.record(.keyRevoked, agentID: existing.agentID, credentialID: existing.id, at: at)
        guard let key = try await store.revokeAPIKey(id: existing.id, at: at, audit: audit) else {
            throw AdministrationError.notFound("no such key")
        }
        return key
    }

    /// Issues a replacement with the same agent, scopes, name, tier and lifetime length; the
    /// old key keeps working for `graceSeconds` (0: it stops at once), never longer than it would have.
    public func rollAPIKey(id: String, graceSeconds: Int, by actor: AuditActor) async throws -> (replacement: IssuedAPIKey, previous: APIKey) {
        guard (0...Self.maxGraceSeconds).contains(graceSeconds) else {
            throw AdministrationError.invalidRequest("grace_seconds must be between 0 and \(Self.maxGraceSeconds)")
        }
        let old = try await apiKey(id: id)
        guard try await agents.agent(id: old.agentID).status == .active else { throw AdministrationError.conflict("agent is disabled") }
        let rolledAt = now()
        let expiresAt = old.expiresAt.map { rolledAt.addingTimeInterval($0.timeIntervalSince(old.createdAt)) }
        let replacement = Self.makeKey(
            agentID: old.agentID,
            name: old.name,
            scopes: old.scopes,
            rateLimit: old.rateLimit,
            expiresAt: expiresAt,
            createdAt: rolledAt
        )
        let audit = actor.record(
            .keyRolled,
            agentID: old.agentID,
            credentialID: old.id,
            details: ["replacement": replacement.record.id, "grace_seconds": String(graceSeconds)],
            at: rolledAt
        )
        let previous = try await AdministrationError.mappingStoreErrors {
            try await store.rollAPIKey(
                id: old.id,
                replacement: replacement.record,
                graceUntil: rolledAt.addingTimeInterval(TimeInterval(graceSeconds)),
                at: rolledAt,
                audit: audit
            )
        }
        return (replacement, previous)
    }

    // MARK: Helpers

    /// A new key with its plaintext; the record is what the store keeps.
    static func makeKey(
        agentID: String,
        name: String?,
        scopes: ScopeSet,
        rateLimit: String?,
        quota: Quota? = nil,
        expiresAt: Date?,
        createdAt: Date
    )
        -> IssuedAPIKey
    {
        let plaintext = SecretFormat.apiKey.generate()
        let record = APIKey(
            id: Identifier.make(prefix: Identifier.apiKeyPrefix),
            agentID: agentID,
            name: name,
            keyHash: SecretFormat.storageHash(plaintext),
            display: SecretFormat.apiKey.display(plaintext),
            scopes: scopes,
            rateLimit: rateLimit,
            quota: quota,
            status: .active,
            createdAt: createdAt,
            expiresAt: expiresAt
        )
        return IssuedAPIKey(record: record, plaintext: plaintext)
    }

    /// A tier name of the right form; whether it is defined is checked by the store, in the
    /// change's transaction (a tier deleted meanwhile can't be assigned).
    static func validatedTierName(_ value: String) throws -> String {
        guard value == RateLimitTier.unlimitedName || RateLimitTier.isValidName(value) else {
            throw AdministrationError.invalidRequest(
                "rate_limit must name a tier (letters, digits, '.', '_', '-', at most \(RateLimitTier.maxNameLength))"
            )
        }
        return value
    }
}
