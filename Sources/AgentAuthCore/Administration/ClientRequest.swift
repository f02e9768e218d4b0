/// What an admin asks for when registering a client (RFC 7591 names in the API).
public struct ClientRequest: Sendable {
    public var clientID: String?
    /// Space-separated allowed scopes.
    public var scope: String?
    public var audiences: [String]?
    public var tokenTTL: Int?
    public var grantTypes: [String]?
    public var authMethod: String?
    /// The client's public JWKS (a JSON object text), for `private_key_jwt`.
    public var jwks: String?
    /// RFC 7591 `client_name`: for people.
    public var name: String?
    /// The client's rate-limit tier (`nil`: none; its agent's still applies).
    public var rateLimit: String?

    public init(
        clientID: String? = nil,
        scope: String?,
        audiences: [String]? = nil,
        tokenTTL: Int? = nil,
        grantTypes: [String]? = nil,
        authMethod: String? = nil,
        jwks: String? = nil,
        name: String? = nil,
        rateLimit: String? = nil
    ) {
        self.clientID = clientID
        self.scope = scope
        self.audiences = audiences
        self.tokenTTL = tokenTTL
        self.grantTypes = grantTypes
        self.authMethod = authMethod
        self.jwks = jwks
        self.name = name
        self.rateLimit = rateLimit
    }
}

/// A client just registered or given a new secret: the plaintext secret exists only here.
public struct IssuedClient: Sendable {
    public var client: OAuthClient
    public var secret: String?

    public init(client: OAuthClient, secret: String?) {
        self.client = client
        self.secret = secret
    }
}
