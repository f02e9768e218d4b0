public import AgentAuthCore
import Foundation
public import Hummingbird

/// A key as the admin API shows it. `key` (the plaintext) is set only in the response that
/// creates it; every other response carries the display form alone.
public struct APIKeyResponse: ResponseEncodable, Sendable {
    public let record: APIKey
    public let plaintext: String?
    /// On a roll: the key this one replaces, and when that one stops working.
    public let replaces: APIKey?
    /// On a revocation: how far it reached the verifiers.
    public var propagation: RevocationPropagation?

    public init(_ record: APIKey, plaintext: String? = nil, replaces: APIKey? = nil, propagation: RevocationPropagation? = nil) {
        self.propagation = propagation
        self.record = record
        self.plaintext = plaintext
        self.replaces = replaces
    }

    enum CodingKeys: String, CodingKey {
        case id, key, display, scopes, name, status, quota
        case agentID = "agent_id"
        case rateLimit = "rate_limit"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case revokedAt = "revoked_at"
        case lastUsedAt = "last_used_at"
        case replacedBy = "replaced_by"
        case replaces, propagation
        case previousExpiresAt = "previous_key_expires_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(record.id, forKey: .id)
        try container.encodeIfPresent(plaintext, forKey: .key)
        try container.encode(record.display, forKey: .display)
        try container.encode(record.scopes.sortedValues, forKey: .scopes)
        try container.encode(record.agentID, forKey: .agentID)
        try container.encode(record.name, forKey: .name)
        try container.encode(record.status.rawValue, forKey: .status)
        try container.encode(record.rateLimit, forKey: .rateLimit)
        try container.encode(record.quota, forKey: .quota)
        try container.encode(record.createdAt, forKey: .createdAt)
        try container.encode(record.expiresAt, forKey: .expiresAt)
        try container.encode(record.revokedAt, forKey: .revokedAt)
        try container.encode(record.lastUsedAt, forKey: .lastUsedAt)
        try container.encode(record.replacedBy, forKey: .replacedBy)
        if let replaces {
            try container.encode(replaces.id, forKey: .replaces)
            try container.encode(replaces.expiresAt, forKey: .previousExpiresAt)
        }
        try container.encodeIfPresent(propagation, forKey: .propagation)
    }
}

public struct APIKeyListResponse: ResponseEncodable, Sendable {
    public let keys: [APIKeyResponse]
}

extension APIKeyListResponse {
    public init(_ keys: [APIKey]) {
        self.keys = keys.map { APIKeyResponse($0) }
    }
}
