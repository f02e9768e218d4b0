public import AgentAuthCore
public import AgentAuthHTTP

/// How `agentauth serve` (or a test) runs the server.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The `iss` of every token and the base of every advertised endpoint; default `http://HOST:PORT`.
    public var issuer: String?
    /// Every client's default audience: what resource servers' tokens carry.
    public var defaultAudience: String
    /// The audience the server's own endpoints (`/admin`, introspection, revocation, the feed)
    /// accept in Bearer tokens; default the issuer URL. No resource server's token carries it, so
    /// a resource server can't replay a token it was sent to the admin API (RFC 8725 §3.9).
    /// Clients get it only when they request it and are allowed it.
    public var adminAudience: String?
    /// The algorithm of keys created by rotation.
    public var signingAlgorithm: SigningAlgorithm
    /// How long a rotated-in signing key is published before it signs (the key it replaces signs
    /// meanwhile): time for the feed to bring the rotation to every verifier and for them to
    /// fetch the key, so no token carries a kid a verifier has not seen.
    public var signingKeyActivationDelay: Duration
    /// How often collected last-used times are written to the store.
    public var usageFlushInterval: Duration
    /// Failed client authentications per client and address, and per address, within a minute
    /// before further attempts get 429.
    public var clientFailureLimit: Int
    public var addressFailureLimit: Int
    /// The most actors a delegated token may carry (token-exchange hops from the original agent).
    public var maxDelegationDepth: Int
    public var serverName: String
    /// Connection cap and request deadlines of the HTTP server.
    public var connectionLimits: ConnectionLimits
    /// Revocation-feed long-polls one credential may hold open at once; past it, 429.
    public var maxFeedPollsPerCredential: Int
    /// Days audit events are kept (`--audit-retention`): older ones are removed at start and
    /// hourly, the chain anchored at the cut (`AuditRetention`). `nil`, the default: kept forever.
    public var auditRetentionDays: Int?
    /// The certificate and key to serve HTTPS with; nil: plain HTTP.
    public var tls: ServerTLS?
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` give the client's address; none by default.
    public var trustedProxies: TrustedProxies = .none
    /// Set once a graceful shutdown begins, after which `/readyz` answers 503. Run it as a service
    /// after the application (`agentauth serve` does) for it to be set before the server stops accepting.
    public var drain = ShutdownDrain()
    /// How long key revocation, agent disabling and token revocation wait for the live verifiers
    /// to acknowledge the change before they answer (`--revocation-confirm-timeout`).
    public var revocationConfirmTimeout: Duration = .seconds(2)

    /// One per verifier process is what a follower holds; this leaves room for dozens of
    /// processes sharing one `introspect` key, and bounds what one leaked key can hold.
    public static let defaultMaxFeedPollsPerCredential = 64

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        issuer: String? = nil,
        defaultAudience: String = "agentauth",
        adminAudience: String? = nil,
        signingAlgorithm: SigningAlgorithm = .eddsa,
        signingKeyActivationDelay: Duration = .seconds(SigningKeyRing.defaultActivationDelay),
        usageFlushInterval: Duration = .seconds(5),
        clientFailureLimit: Int = 10,
        addressFailureLimit: Int = 50,
        maxDelegationDepth: Int = TokenExchangeGrant.defaultMaxDepth,
        serverName: String = "agentauth",
        connectionLimits: ConnectionLimits = .init(),
        maxFeedPollsPerCredential: Int = Self.defaultMaxFeedPollsPerCredential,
        auditRetentionDays: Int? = nil
    ) {
        self.host = host
        self.port = port
        self.issuer = issuer
        self.defaultAudience = defaultAudience
        self.adminAudience = adminAudience
        self.signingAlgorithm = signingAlgorithm
        self.signingKeyActivationDelay = signingKeyActivationDelay
        self.usageFlushInterval = usageFlushInterval
        self.clientFailureLimit = clientFailureLimit
        self.addressFailureLimit = addressFailureLimit
        self.maxDelegationDepth = maxDelegationDepth
        self.serverName = serverName
        self.connectionLimits = connectionLimits
        self.maxFeedPollsPerCredential = maxFeedPollsPerCredential
        self.auditRetentionDays = auditRetentionDays
    }

    public var effectiveIssuer: String {
        if let issuer { return issuer }
        return "\(tls == nil ? "http" : "https")://\(host):\(port)"
    }

    public var effectiveAdminAudience: String { adminAudience ?? effectiveIssuer }

    /// The token endpoint's URL, which a client assertion may name as its audience (RFC 7523 §3).
    public var tokenEndpoint: String { Self.tokenEndpoint(issuer: effectiveIssuer) }

    static func tokenEndpoint(issuer: String) -> String { issuer + "/oauth/token" }
}
