public import Foundation

/// One entry of the revocation feed: what verifiers must stop accepting, in order (`seq`), and
/// the signing-key rotations they must follow.
public struct RevocationEvent: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable {
        /// An access token's `jti` is revoked until the token expires.
        case token
        /// An API key is revoked (or rolled past its grace): evict cached introspection results.
        case apiKey = "api_key"
        /// An agent is disabled: its keys, and its tokens issued at or before `at`, are refused.
        case agent
        /// A signing-key rotation, one event per key (subject = kid). Without `expiresAt`: the new
        /// key, in the JWKS from now on, signing from `at`; fetch it before its tokens arrive. With
        /// `expiresAt`: the retired key, signing until `at`, leaving the JWKS at `expiresAt`; stop
        /// trusting it then.
        case signingKey = "signing_key"
        /// An OAuth client is disabled or deleted: its tokens issued at or before `at` are refused.
        case client
        /// Rate-limit tiers or assignments changed (subject: the tier name or the agent, key or
        /// client id): refetch the limits (`GET /oauth/limits`).
        case limits
        /// A quota is used up (subject: the agent or key id): answer 429 until `expiresAt`, the
        /// period's end.
        case quota
    }

    public var seq: Int64
    public var kind: Kind
    /// The jti, key id, agent id, signing key's kid, client id, or tier name.
    public var subject: String
    /// The agent the revoked credential belongs to.
    public var agentID: String?
    /// When it happened (for `.agent`: the disable watermark; for `.signingKey`: the hand-over).
    public var at: Date
    /// When the entry stops mattering (a token's `exp`, a retired signing key's end of
    /// publication, a used-up quota's period end); `nil` for the others.
    public var expiresAt: Date?

    public init(seq: Int64 = 0, kind: Kind, subject: String, agentID: String?, at: Date, expiresAt: Date? = nil) {
        self.seq = seq
        self.kind = kind
        self.subject = subject
        self.agentID = agentID
        self.at = at
        self.expiresAt = expiresAt
    }

    enum CodingKeys: String, CodingKey {
        case seq
        case kind = "type"
        case subject
        case agentID = "agent_id"
        case at
        case expiresAt = "expires_at"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        seq = try container.decode(Int64.self, forKey: .seq)
        kind = try container.decode(Kind.self, forKey: .kind)
        subject = try container.decode(String.self, forKey: .subject)
        agentID = try container.decodeIfPresent(String.self, forKey: .agentID)
        at = Date(timeIntervalSince1970: try container.decode(Double.self, forKey: .at))
        expiresAt = try container.decodeIfPresent(Double.self, forKey: .expiresAt).map(Date.init(timeIntervalSince1970:))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(seq, forKey: .seq)
        try container.encode(kind, forKey: .kind)
        try container.encode(subject, forKey: .subject)
        try container.encodeIfPresent(agentID, forKey: .agentID)
        try container.encode(at.timeIntervalSince1970, forKey: .at)
        try container.encodeIfPresent(expiresAt?.timeIntervalSince1970, forKey: .expiresAt)
    }
}
