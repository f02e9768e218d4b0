public import AgentAuthCore
public import AgentAuthHTTP

/// How `agentauth serve` (or a test) runs the server.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The `iss` of every token and the base of every advertised endpoint; default `http://HOST:PORT`.
    public var issuer: String?
    /// Every client's default audience, and the audience the server's own endpoints accept.
    public var defaultAudience: String
    /// The algorithm of keys created by rotation.
    public var signingAlgorithm: SigningAlgorithm
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

    /// One per verifier process is what a follower holds; this leaves room for dozens of
    /// processes sharing one `introspect` key, and bounds what one leaked key can hold.
    public static let defaultMaxFeedPollsPerCredential = 64

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        issuer: String? = nil,
        defaultAudience: String = "agentauth",
        signingAlgorithm: SigningAlgorithm = .eddsa,
        usageFlushInterval: Duration = .seconds(5),
        clientFailureLimit: Int = 10,
        addressFailureLimit: Int = 50,
        maxDelegationDepth: Int = TokenExchangeGrant.defaultMaxDepth,
        serverName: String = "agentauth",
        connectionLimits: ConnectionLimits = .init(),
        maxFeedPollsPerCredential: Int = Self.defaultMaxFeedPollsPerCredential
    ) {
        self.host = host
        self.port = port
        self.issuer = issuer
        self.defaultAudience = defaultAudience
        self.signingAlgorithm = signingAlgorithm
        self.usageFlushInterval = usageFlushInterval
        self.clientFailureLimit = clientFailureLimit
        self.addressFailureLimit = addressFailureLimit
        self.maxDelegationDepth = maxDelegationDepth
        self.serverName = serverName
        self.connectionLimits = connectionLimits
        self.maxFeedPollsPerCredential = maxFeedPollsPerCredential
    }

    public var effectiveIssuer: String {
        if let issuer { return issuer }
        return "http://\(host):\(port)"
    }
}
