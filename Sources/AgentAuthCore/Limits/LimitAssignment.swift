/// What limits one agent, API key or OAuth client: a tier by name and, for agents and keys, a
/// quota. A verifier applies the agent's and the credential's together.
public struct LimitAssignment: Hashable, Sendable, Codable {
    public var rateLimit: String?
    public var quota: Quota?

    public init(rateLimit: String? = nil, quota: Quota? = nil) {
        self.rateLimit = rateLimit
        self.quota = quota
    }

    enum CodingKeys: String, CodingKey {
        case rateLimit = "rate_limit"
        case quota
    }

    /// Whether nothing is assigned (a tier named `unlimited` is no tier).
    public var isEmpty: Bool { (rateLimit == nil || rateLimit == RateLimitTier.unlimitedName) && quota == nil }
}
