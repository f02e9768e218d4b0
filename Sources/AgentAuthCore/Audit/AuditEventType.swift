/// What an audit event records. An open set, as jwt-kit's error kinds are: the names below are
/// the ones this version writes, and a log read back may hold others (written by a newer
/// version, or by a test), which stay readable as they are. Stored and listed by `rawValue`.
public struct AuditEventType: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

extension AuditEventType {
    // The log itself.
    /// The chain's first event: the database was initialised (bootstrap admin, first signing key).
    public static let storeInitialized = AuditEventType(rawValue: "store.initialized")
    /// Events lost because the write queue was full; `count` says how many.
    public static let auditDropped = AuditEventType(rawValue: "audit.dropped")
    /// The oldest events were removed (retention, or `audit export --delete`): `count`, and the
    /// anchor the kept chain starts from (`anchor_seq`, `anchor_hash`), which verification requires.
    public static let auditPruned = AuditEventType(rawValue: "audit.pruned")

    // Admin changes, each stored in the change's own transaction.
    public static let agentCreated = AuditEventType(rawValue: "agent.created")
    public static let agentDisabled = AuditEventType(rawValue: "agent.disabled")
    public static let agentEnabled = AuditEventType(rawValue: "agent.enabled")
    public static let delegationPolicySet = AuditEventType(rawValue: "agent.delegation_policy")
    public static let keyCreated = AuditEventType(rawValue: "key.created")
    public static let keyRevoked = AuditEventType(rawValue: "key.revoked")
    public static let keyRolled = AuditEventType(rawValue: "key.rolled")
    public static let clientCreated = AuditEventType(rawValue: "client.created")
    public static let clientSecretRotated = AuditEventType(rawValue: "client.secret_rotated")
    public static let signingKeyRotated = AuditEventType(rawValue: "signing_key.rotated")
    public static let tokenRevoked = AuditEventType(rawValue: "token.revoked")
    public static let agentUpdated = AuditEventType(rawValue: "agent.updated")
    public static let keyUpdated = AuditEventType(rawValue: "key.updated")
    public static let clientUpdated = AuditEventType(rawValue: "client.updated")
    public static let clientDisabled = AuditEventType(rawValue: "client.disabled")
    public static let clientEnabled = AuditEventType(rawValue: "client.enabled")
    public static let clientDeleted = AuditEventType(rawValue: "client.deleted")
    public static let clientTokensRevoked = AuditEventType(rawValue: "client.tokens_revoked")
    public static let rateLimitSet = AuditEventType(rawValue: "rate_limit.set")
    public static let rateLimitDeleted = AuditEventType(rawValue: "rate_limit.deleted")

    // Limits reached, found when verifiers report usage.
    /// A quota is used up for the rest of its period (`subject`, `period`, `until`, `quota`, `used`).
    public static let quotaExhausted = AuditEventType(rawValue: "quota.exhausted")

    // Tokens handed out.
    public static let tokenIssued = AuditEventType(rawValue: "token.issued")
    public static let tokenExchanged = AuditEventType(rawValue: "token.exchanged")

    // Failures and refusals, aggregated per credential, address and minute (`AuditLog.recordFailure`).
    public static let apiKeyFailure = AuditEventType(rawValue: "api_key.failure")
    public static let tokenFailure = AuditEventType(rawValue: "token.failure")
    public static let clientAuthenticationFailure = AuditEventType(rawValue: "client_auth.failure")
    public static let tokenRefused = AuditEventType(rawValue: "token.refused")
    public static let introspectionRefused = AuditEventType(rawValue: "introspection.refused")
    public static let revocationRefused = AuditEventType(rawValue: "revocation.refused")
    public static let adminRefused = AuditEventType(rawValue: "admin.refused")
}
