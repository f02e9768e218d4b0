import AgentAuthCore
public import AgentAuthHTTP
public import Hummingbird
public import HummingbirdCore
import Logging

/// Everything a resource server protected by AgentAuth is configured with: which auth server it
/// trusts, how it verifies credentials and follows revocations, and the limits of its HTTP
/// server. `ResourceServerMiddleware` is built from it, and so is the HTTP server
/// (`httpServer`, `applicationConfiguration(address:serverName:)`).
///
/// ```swift
/// let configuration = ResourceServerConfiguration(authServer: "http://127.0.0.1:8080", introspectionKey: key)
/// let agentAuth = ResourceServerMiddleware<AgentAuthRequestContext>(configuration: configuration)
/// ```
public struct ResourceServerConfiguration: Sendable {
    /// The auth server's base URL, e.g. `http://127.0.0.1:8080`: its RFC 8414 metadata names the
    /// JWKS, and introspection and the revocation feed are asked there.
    public var authServer: String
    /// The `iss` that access tokens must carry; `nil`: the auth server's URL.
    public var issuer: String?
    /// The `aud` that access tokens must carry (the auth server's `--default-audience`).
    public var audience: String
    /// An API key with scope `introspect`: for introspecting API keys and following the feed.
    public var introspectionKey: String
    /// How long a positive API-key introspection result may be reused (default 60 s, never past
    /// the key's own expiry). A revocation, disable or change of the key evicts it through the
    /// feed before the auth server answers the revocation (the verifier acknowledges it), and
    /// while the feed is silent past `feedStalenessBound` no cached result is used; so the cache
    /// is safe on by default. `.zero`: every API-key request is introspected.
    public var apiKeyCacheTTL: Duration
    /// Verified access tokens kept, so a token presented again skips decoding and its signature
    /// check until its `exp` (revocations are still checked on every request); 0: no cache.
    public var tokenCacheCapacity: Int
    /// Silence of the revocation feed after which API-key results are no longer cached and the
    /// server is not ready.
    public var feedStalenessBound: Duration
    /// Silence of the revocation feed after which access tokens are refused (503) too.
    public var tokenStalenessBound: Duration
    /// The name this server goes by in the auth server's verifier registry (`GET /admin/verifiers`);
    /// `nil`: the host name.
    public var verifierName: String?
    /// How often the issuer's keys are refetched besides the rotations the feed announces.
    public var jwksRefreshInterval: Duration
    /// How often the requests counted here are reported to the auth server (for quotas and
    /// usage); at most a second by contract, since it bounds how far a quota can be overshot.
    public var usageReportInterval: Duration
    /// How often the rate-limit tiers and assignments are refetched besides the changes the feed announces.
    public var limitsRefreshInterval: Duration
    /// The HTTP server's connection cap and request deadlines.
    public var connectionLimits: ConnectionLimits
    /// A PEM file of the CA (or the self-signed certificate) that signed an `https` auth
    /// server's certificate: requests to the auth server then trust it alone instead of the
    /// system's roots. nil: the system's roots.
    public var authServerCAFile: String?
    /// The certificate and key this server serves HTTPS with (`httpServer`); nil: plain HTTP.
    public var tls: ServerTLS?
    /// Where the middleware's metrics go (`ResourceServerMiddleware.addMetricsRoute(to:)` serves
    /// them): by default the process's shared Prometheus registry.
    public var metrics: AgentAuthMetrics

    public init(
        authServer: String,
        issuer: String? = nil,
        audience: String = "agentauth",
        introspectionKey: String,
        apiKeyCacheTTL: Duration = Self.defaultAPIKeyCacheTTL,
        tokenCacheCapacity: Int = 10_000,
        feedStalenessBound: Duration = .seconds(15),
        tokenStalenessBound: Duration = .seconds(300),
        verifierName: String? = nil,
        jwksRefreshInterval: Duration = .seconds(300),
        usageReportInterval: Duration = .seconds(1),
        limitsRefreshInterval: Duration = .seconds(60),
        connectionLimits: ConnectionLimits = ConnectionLimits(),
        authServerCAFile: String? = nil,
        tls: ServerTLS? = nil,
        metrics: AgentAuthMetrics = AgentAuthMetrics()
    ) {
        self.metrics = metrics
        self.authServer = authServer
        self.issuer = issuer
        self.audience = audience
        self.introspectionKey = introspectionKey
        self.apiKeyCacheTTL = apiKeyCacheTTL
        self.tokenCacheCapacity = tokenCacheCapacity
        self.feedStalenessBound = feedStalenessBound
        self.tokenStalenessBound = tokenStalenessBound
        self.verifierName = verifierName
        self.jwksRefreshInterval = jwksRefreshInterval
        self.usageReportInterval = usageReportInterval
        self.limitsRefreshInterval = limitsRefreshInterval
        self.connectionLimits = connectionLimits
        self.authServerCAFile = authServerCAFile
        self.tls = tls
    }

    /// How long API-key results are cached unless told otherwise.
    public static let defaultAPIKeyCacheTTL: Duration = .seconds(60)

    /// Whether `name` can be a verifier name: 1–128 printable ASCII characters.
    public static func isValidVerifierName(_ name: String) -> Bool { Verifier.isValidName(name) }

    /// `authServer` without a trailing slash.
    var authServerBase: String { Self.trimmingSlash(authServer) }

    /// The issuer tokens must name: `issuer`, else the auth server's URL.
    var expectedIssuer: String { issuer.map(Self.trimmingSlash) ?? authServerBase }

    private static func trimmingSlash(_ url: String) -> String {
        url.hasSuffix("/") ? String(url.dropLast()) : url
    }

    /// Hummingbird's HTTP/1 server with this configuration's connection cap and request
    /// deadlines, refusing credential headers padded with whitespace (which HTTP parsing would
    /// otherwise trim into a valid-looking credential); over TLS when `tls` is set.
    public var httpServer: HTTPServerBuilder { .agentAuthHTTP1(connectionLimits, tls: tls) }

    /// The application configuration that goes with `httpServer`: it also stops accepting
    /// connections a little past the cap, so a flood cannot outrun the cap's closes.
    public func applicationConfiguration(address: BindAddress, serverName: String? = nil) -> ApplicationConfiguration {
        .agentAuth(
            address: address,
            serverName: serverName,
            limits: connectionLimits,
            logger: Logger(label: serverName ?? "agentauth-resource-server")
        )
    }
}
