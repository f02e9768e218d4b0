/// What an admin asks for when creating a key; validated by `AgentAdministration`.
public struct APIKeyRequest: Sendable {
    public var scopes: [String]
    public var name: String?
    /// Lifetime in seconds from creation; `nil` for a key that does not expire.
    public var expiresIn: Int?
    /// The tier of this key (`nil`: none; the agent's still applies).
    public var rateLimit: String?
    /// The budget of this key (`nil`: none; the agent's still applies).
    public var quota: Quota?

    public init(scopes: [String], name: String? = nil, expiresIn: Int? = nil, rateLimit: String? = nil, quota: Quota? = nil) {
        self.scopes = scopes
        self.name = name
        self.expiresIn = expiresIn
        self.rateLimit = rateLimit
        self.quota = quota
    }
}
