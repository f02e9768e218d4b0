public import AgentAuthCore
public import AgentAuthHTTP
public import Hummingbird
public import HummingbirdAuth
public import Logging
public import ServiceLifecycle

/// What a Hummingbird resource server adds to be protected by AgentAuth, built from one
/// `ResourceServerConfiguration`. Add it to the router and give it to the application as a
/// service; then each route states the scope it needs with `RequireScope`:
///
/// ```swift
/// let agentAuth = ResourceServerMiddleware<AgentAuthRequestContext>(configuration: configuration)
/// let router = Router(context: AgentAuthRequestContext.self)
/// router.add(middleware: agentAuth)
/// router.group("v1/conversations").add(middleware: RequireScope(Scope("conversations:read")!)).get { _, _ in … }
/// let app = Application(
///     router: router,
///     server: configuration.httpServer,
///     configuration: configuration.applicationConfiguration(address: .hostname("127.0.0.1", port: 8081)),
///     services: [agentAuth]
/// )
/// ```
///
/// As middleware, on every request: a tracing span, the request's metrics and one log line
/// (`RequestObservationMiddleware`, docs/observability.md); any error below it becomes a JSON error with the right
/// status and RFC 6750 challenge (`JSONErrorMiddleware`), oversized headers get 431
/// (`RequestLimitsMiddleware`), and a credential (`Authorization: Bearer` access token,
/// verified locally, or `X-API-Key`, verified by introspection) becomes `context.identity`. A
/// request without a credential passes on without an identity, so public routes (`/healthz`)
/// work, and `RequireScope` answers 401 on protected ones; a credential that does not verify is
/// refused wherever it is sent.
///
/// After the credential, rate limits and quotas (`RateLimitMiddleware`): 429 with `Retry-After`
/// past the agent's or the credential's tier or quota, and `RateLimit-Policy` / `RateLimit` on
/// every authenticated answer where a tier applies.
///
/// As a service: follows the auth server's revocation feed (revoked tokens and keys, disabled
/// agents and clients, signing-key rotations, used-up quotas) and its limits, refetches the
/// issuer's keys now and then, and reports usage every second, until shutdown.
public struct ResourceServerMiddleware<Context: AuthRequestContext<AgentIdentity>>: RouterMiddleware, Service {
    /// The revocation feed follower: its deny-list, API-key cache and freshness.
    public let feed: RevocationFeedFollower
    /// The issuer's signing keys.
    public let keys: RemoteJWKS
    /// Rate-limit tiers, assignments and used-up quotas, from the auth server.
    public let limits: LimitsFollower
    /// Reports the requests counted here, for quotas and usage.
    public let usage: UsageReporter
    let authenticator: ResourceAuthenticator<Context>
    let rateLimits: RateLimitMiddleware<Context>
    let requestLimits = RequestLimitsMiddleware<Context>()
    let errors = JSONErrorMiddleware<Context>()
    let observation: RequestObservationMiddleware<Context>
    /// Where this middleware's metrics go (the configuration's `metrics`).
    public let metrics: AgentAuthMetrics
    /// Since when the feed's lag is counted while it has never answered.
    let started = ContinuousClock.now

    public init(configuration: ResourceServerConfiguration, logger: Logger = Logger(label: "agentauth.resource-server")) {
        let clients = AuthServerHTTPClients.clients(caFile: configuration.authServerCAFile)
        let keys = RemoteJWKS(
            authServer: configuration.authServerBase,
            issuer: configuration.expectedIssuer,
            httpClient: clients.requests,
            refreshInterval: configuration.jwksRefreshInterval,
            logger: logger
        )
        let limits = LimitsFollower(
            authServer: configuration.authServerBase,
            credential: configuration.introspectionKey,
            httpClient: clients.longPolls,
            refreshInterval: configuration.limitsRefreshInterval,
            logger: logger
        )
        let usage = UsageReporter(
            authServer: configuration.authServerBase,
            credential: configuration.introspectionKey,
            httpClient: clients.longPolls,
            interval: configuration.usageReportInterval,
            logger: logger
        )
        let feed = RevocationFeedFollower(
            authServer: configuration.authServerBase,
            credential: configuration.introspectionKey,
            apiKeyCache: APIKeyCache(ttl: configuration.apiKeyCacheTTL),
            keySource: keys,
            limits: limits,
            httpClient: clients.longPolls,
            stalenessBound: configuration.feedStalenessBound,
            tokenStalenessBound: configuration.tokenStalenessBound,
            verifierName: configuration.verifierName ?? RevocationFeedFollower.defaultVerifierName,
            logger: logger
        )
        let tokens = TokenVerifier(
            policy: .init(issuer: configuration.expectedIssuer, audiences: [configuration.audience]),
            keys: keys,
            revocations: feed.revocations,
            cache: configuration.tokenCacheCapacity > 0 ? VerifiedTokenCache(capacity: configuration.tokenCacheCapacity) : nil
        )
        self.keys = keys
        self.feed = feed
        self.limits = limits
        self.usage = usage
        self.metrics = configuration.metrics
        self.observation = RequestObservationMiddleware(metrics: configuration.metrics)
        self.rateLimits = RateLimitMiddleware(limiter: RequestLimiter(state: limits.state), usage: usage.counter, metrics: configuration.metrics)
        self.authenticator = ResourceAuthenticator(
            introspection: IntrospectionClient(
                authServer: configuration.authServerBase,
                introspectionKey: configuration.introspectionKey,
                httpClient: clients.requests
            ),
            tokens: tokens,
            feed: feed,
            metrics: configuration.metrics
        )
    }

    /// Whether revocations are known in time: the feed answered within the configuration's
    /// `feedStalenessBound`. What a readiness check (`/readyz`) reports.
    public var isReady: Bool { feed.isFresh }

    /// Throws the 503 (`temporarily_unavailable`, `Retry-After`) a readiness check answers
    /// with while the server is not ready.
    public func checkReady() throws {
        guard isReady else { throw OAuthError.temporarilyUnavailable("the revocation feed is stale", retryAfter: 2) }
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await observation.handle(request, context: context) { request, context in
            try await errors.handle(request, context: context) { request, context in
                try await requestLimits.handle(request, context: context) { request, context in
                    try await authenticator.handle(request, context: context) { request, context in
                        try await rateLimits.handle(request, context: context, next: next)
                    }
                }
            }
        }
    }

    /// Adds `GET /metrics` (Prometheus text format, no authentication) to `router`: this
    /// middleware's metrics (requests by route template and status, latency, verifications,
    /// rate-limit refusals, the revocation feed's lag and freshness), and whatever else is recorded in the same
    /// registry. Add it after the middleware, so that scrapes are counted as requests too.
    public func addMetricsRoute(to router: Router<Context>) {
        router.addMetricsRoute(metrics) { [feed, metrics, started] in
            let lag = feed.timeSinceLastAnswer ?? (ContinuousClock.now - started)
            metrics.recordFeedLag(seconds: Double(lag.components.seconds) + Double(lag.components.attoseconds) / 1e18)
            metrics.recordFeedFresh(feed.isFresh)
        }
    }

    /// Follows the revocation feed and the limits, refreshes the issuer's keys and reports usage
    /// until graceful shutdown (usage once more after it).
    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await feed.run() }
            group.addTask { try await keys.run() }
            group.addTask { try await limits.run() }
            group.addTask { try await usage.run() }
        }
    }
}
