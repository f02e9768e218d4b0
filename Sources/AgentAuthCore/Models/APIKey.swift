public import Foundation

/// A stored API key. The plaintext is never stored: only its SHA-256 and a display form.
public struct APIKey: Hashable, Sendable {
    public enum Status: String, Hashable, Sendable, Codable {
        case active
        case revoked
    }

    public var id: String
    public var agentID: String
    public var name: String?
    /// SHA-256 of the whole key, lowercase hex.
    public var keyHash: String
    /// `sk-agent-ABCD…WXYZ`.
    public var display: String
    public var scopes: ScopeSet
    /// The rate-limit tier of this key (`nil`: none; the agent's tier still applies).
    public var rateLimit: String?
    /// This key's budget (`nil`: none; the agent's quota still applies).
    public var quota: Quota?
    public var status: Status
    public var createdAt: Date
    public var expiresAt: Date?
    public var revokedAt: Date?
    public var lastUsedAt: Date?
    /// The key that replaced this one when it was rolled.
    public var replacedBy: String?

    public init(
        id: String,
        agentID: String,
        name: String?,
        keyHash: String,
        display: String,
        scopes: ScopeSet,
        rateLimit: String?,
        quota: Quota? = nil,
        status: Status,
        createdAt: Date,
        expiresAt: Date?,
        revokedAt: Date? = nil,
        lastUsedAt: Date? = nil,
        replacedBy: String? = nil
    ) {
        self.id = id
        self.agentID = agentID
        self.name = name
        self.keyHash = keyHash
        self.display = display
        self.scopes = scopes
        self.rateLimit = rateLimit
        self.quota = quota
        self.status = status
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.lastUsedAt = lastUsedAt
        self.replacedBy = replacedBy
    }

    public func isExpired(at now: Date) -> Bool {
        guard let expiresAt else { return false }
        return expiresAt <= now
    }
}
