public import Foundation

/// The claims of an AgentAuth access token (RFC 9068 §2.2). Decoding is strict: every
/// registered claim must have its JSON type (SECURITY-CASES 24): NumericDates are finite
/// numbers between 1970 and 9999, `aud` is a string or a non-empty array of strings.
public struct AccessTokenClaims: Codable, Hashable, Sendable {
    public var issuer: String
    /// The agent the token speaks for.
    public var subject: String
    public var clientID: String
    public var audience: [String]
    public var expiresAt: Date
    public var issuedAt: Date
    public var notBefore: Date?
    public var tokenID: String
    public var scope: ScopeSet
    /// Delegation (RFC 8693 §4.1): the agents acting for `subject`, the current actor first; the
    /// `act` claim nests them (`{"sub": actors[0], "act": {"sub": actors[1], …}}`). Empty for a
    /// token that is not delegated.
    public var actors: [String]
    /// The `jti`s of the tokens this one was exchanged from, root first (claim `ancestors`):
    /// revoking any of them makes this token inactive everywhere.
    public var ancestors: [String]

    public init(
        issuer: String,
        subject: String,
        clientID: String,
        audience: [String],
        expiresAt: Date,
        issuedAt: Date,
        notBefore: Date?,
        tokenID: String,
        scope: ScopeSet,
        actors: [String] = [],
        ancestors: [String] = []
    ) {
        self.issuer = issuer
        self.subject = subject
        self.clientID = clientID
        self.audience = audience
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
        self.notBefore = notBefore
        self.tokenID = tokenID
        self.scope = scope
        self.actors = actors
        self.ancestors = ancestors
    }

    /// Every agent in the delegation chain: the subject and each actor.
    public var chainAgents: [String] { [subject] + actors }

    /// The token and every ancestor it was derived from.
    public var chainTokenIDs: [String] { [tokenID] + ancestors }

    enum CodingKeys: String, CodingKey {
        case issuer = "iss"
        case subject = "sub"
        case clientID = "client_id"
        case audience = "aud"
        case expiresAt = "exp"
        case issuedAt = "iat"
        case notBefore = "nbf"
        case tokenID = "jti"
        case scope
        case act
        case ancestors
    }

    /// Latest NumericDate accepted: 9999-12-31T23:59:59Z.
    static let latestDate: Double = 253_402_300_799

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        issuer = try container.decode(String.self, forKey: .issuer)
        subject = try container.decode(String.self, forKey: .subject)
        clientID = try container.decode(String.self, forKey: .clientID)
        if let single = try? container.decode(String.self, forKey: .audience) {
            audience = [single]
        } else {
            audience = try container.decode([String].self, forKey: .audience)
            guard !audience.isEmpty else {
                throw DecodingError.dataCorruptedError(forKey: .audience, in: container, debugDescription: "empty audience")
            }
        }
        expiresAt = try Self.numericDate(container, .expiresAt)
        issuedAt = try Self.numericDate(container, .issuedAt)
        notBefore = container.contains(.notBefore) ? try Self.numericDate(container, .notBefore) : nil
        tokenID = try container.decode(String.self, forKey: .tokenID)
        actors = try container.decodeIfPresent(ActorClaim.self, forKey: .act)?.chain ?? []
        ancestors = try container.decodeIfPresent([String].self, forKey: .ancestors) ?? []
        if container.contains(.scope) {
            let value = try container.decode(String.self, forKey: .scope)
            scope = value.isEmpty ? ScopeSet() : try ScopeSet(parsing: value)
        } else {
            scope = ScopeSet()
        }
    }

    static func numericDate(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> Date {
        let seconds = try container.decode(Double.self, forKey: key)
        guard seconds.isFinite, (0...latestDate).contains(seconds) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "NumericDate out of range")
        }
        return Date(timeIntervalSince1970: seconds)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(issuer, forKey: .issuer)
        try container.encode(subject, forKey: .subject)
        try container.encode(clientID, forKey: .clientID)
        if audience.count == 1 {
            try container.encode(audience[0], forKey: .audience)
        } else {
            try container.encode(audience, forKey: .audience)
        }
        try container.encode(Int64(expiresAt.timeIntervalSince1970), forKey: .expiresAt)
        try container.encode(Int64(issuedAt.timeIntervalSince1970), forKey: .issuedAt)
        if let notBefore { try container.encode(Int64(notBefore.timeIntervalSince1970), forKey: .notBefore) }
        try container.encode(tokenID, forKey: .tokenID)
        try container.encode(scope.description, forKey: .scope)
        if let act = ActorClaim(chain: actors) { try container.encode(act, forKey: .act) }
        if !ancestors.isEmpty { try container.encode(ancestors, forKey: .ancestors) }
    }
}

/// The nested RFC 8693 §4.1 `act` claim: `{"sub": "...", "act": {...}}`.
public struct ActorClaim: Codable, Hashable, Sendable {
    /// The actors, outermost (current) first.
    public let chain: [String]

    /// `nil` for an empty chain.
    public init?(chain: [String]) {
        guard !chain.isEmpty else { return nil }
        self.chain = chain
    }

    enum CodingKeys: String, CodingKey {
        case sub, act
    }

    public init(from decoder: any Decoder) throws {
        var chain: [String] = []
        var container = try decoder.container(keyedBy: CodingKeys.self)
        while true {
            let sub = try container.decode(String.self, forKey: .sub)
            guard !sub.isEmpty else { throw DecodingError.dataCorruptedError(forKey: .sub, in: container, debugDescription: "empty actor") }
            chain.append(sub)
            guard container.contains(.act) else { break }
            container = try container.nestedContainer(keyedBy: CodingKeys.self, forKey: .act)
        }
        self.chain = chain
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        for (index, sub) in chain.enumerated() {
            try container.encode(sub, forKey: .sub)
            if index < chain.count - 1 { container = container.nestedContainer(keyedBy: CodingKeys.self, forKey: .act) }
        }
    }
}
