public import Foundation

/// An OAuth client (RFC 7591 vocabulary). Every client belongs to exactly one agent and
/// issues tokens whose `sub` is that agent.
public struct OAuthClient: Hashable, Sendable {
    public enum Status: String, Hashable, Sendable, Codable {
        case active
        case disabled
    }

    public var clientID: String
    public var agentID: String
    /// The scopes the client may be granted (RFC 7591 `scope`).
    public var scopes: ScopeSet
    /// The audiences its tokens may carry; the first is the default.
    public var audiences: [String]
    /// Access-token lifetime in seconds.
    public var tokenTTL: Int
    public var grantTypes: Set<GrantType>
    public var authMethod: ClientAuthMethod
    /// The client's public JWKS (RFC 7591 `jwks`) for `private_key_jwt`, as JSON.
    public var jwks: String?
    /// SHA-256 (hex) of the current secret; nil for `private_key_jwt` clients.
    public var secretHash: String?
    /// The secret replaced by the last rotation, accepted until `previousSecretExpiresAt`.
    public var previousSecretHash: String?
    public var previousSecretExpiresAt: Date?
    public var createdAt: Date
    /// RFC 7591 `client_name`: for people.
    public var name: String?
    /// The rate-limit tier of this client: at `/oauth/token` and for its tokens at every verifier.
    public var rateLimit: String?
    /// A disabled client gets `invalid_client`, and its tokens issued at or before `disabledAt` are refused.
    public var status: Status
    /// The latest time the client was disabled (or deleted), kept after re-enabling as an agent's is.
    public var disabledAt: Date?

    public init(
        clientID: String,
        agentID: String,
        scopes: ScopeSet,
        audiences: [String],
        tokenTTL: Int,
        grantTypes: Set<GrantType>,
        authMethod: ClientAuthMethod,
        jwks: String?,
        secretHash: String?,
        previousSecretHash: String? = nil,
        previousSecretExpiresAt: Date? = nil,
        createdAt: Date,
        name: String? = nil,
        rateLimit: String? = nil,
        status: Status = .active,
        disabledAt: Date? = nil
    ) {
        self.clientID = clientID
        self.agentID = agentID
        self.scopes = scopes
        self.audiences = audiences
        self.tokenTTL = tokenTTL
        self.grantTypes = grantTypes
        self.authMethod = authMethod
        self.jwks = jwks
        self.secretHash = secretHash
        self.previousSecretHash = previousSecretHash
        self.previousSecretExpiresAt = previousSecretExpiresAt
        self.createdAt = createdAt
        self.name = name
        self.rateLimit = rateLimit
        self.status = status
        self.disabledAt = disabledAt
    }

    public static let defaultTokenTTL = 1800
    /// The longest access-token lifetime a client may have (1 day).
    public static let maxTokenTTL = 86_400
}

/// RFC 7591 `token_endpoint_auth_method` values AgentAuth supports.
public enum ClientAuthMethod: String, CaseIterable, Hashable, Sendable, Codable {
    case clientSecretBasic = "client_secret_basic"
    case clientSecretPost = "client_secret_post"
    case privateKeyJWT = "private_key_jwt"
}

/// Grant types a client may use.
public enum GrantType: String, CaseIterable, Hashable, Sendable, Codable {
    case clientCredentials = "client_credentials"
    case tokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
}
