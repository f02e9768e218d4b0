public import AsyncHTTPClient
import Foundation
import NIOCore

/// Gets an agent's access tokens and keeps one ready: requested once, cached, and refreshed
/// `refreshMargin` (default 60 s) before it expires. However many tasks ask at once, one
/// token request is in flight at a time and every caller gets its result.
///
/// ```swift
/// let tokens = AgentTokenManager(
///     tokenURL: "https://auth.example.com/oauth/token",
///     clientID: "cli_research", clientSecret: secret, scope: "conversations:read")
/// let bearer = try await tokens.token()
/// ```
///
/// - A caller that is cancelled stops waiting at once with `CancellationError`; the refresh it
///   was waiting on goes on for the others (and for the next caller).
/// - Network errors and 5xx answers are retried per `RetryPolicy`; a 4xx is final and thrown as
///   `TokenRequestError`. When a refresh fails only for a passing reason while the current token
///   is still valid for a few seconds, callers get the current token, and the next call tries again.
/// - After a 401 from an API, `invalidate(_:)` the token it refused; the next call gets a new one.
public actor AgentTokenManager {
    /// Settings shared by a manager and the managers it delegates to.
    public struct Configuration: Sendable {
        /// How long before expiry a token is replaced. Never more than half a token's lifetime,
        /// so a short-lived token is not refreshed on every call.
        public var refreshMargin: Duration
        public var retry: RetryPolicy
        /// The limit for one token request (each attempt).
        public var requestTimeout: Duration
        public var httpClient: HTTPClient

        /// Fails a connection attempt fast and leaves retrying to `retry`: `HTTPClient.shared`
        /// would keep reconnecting until the request's deadline, hiding each failure from the
        /// backoff.
        public static let defaultHTTPClient: HTTPClient = {
            var configuration = HTTPClient.Configuration()
            configuration.timeout = .init(connect: .seconds(3))
            configuration.connectionPool.retryConnectionEstablishment = false
            return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        }()

        public init(
            refreshMargin: Duration = .seconds(60),
            retry: RetryPolicy = .default,
            requestTimeout: Duration = .seconds(10),
            httpClient: HTTPClient = Configuration.defaultHTTPClient
        ) {
            self.refreshMargin = refreshMargin
            self.retry = retry
            self.requestTimeout = requestTimeout
            self.httpClient = httpClient
        }
    }

    enum Endpoint: Sendable {
        case tokenURL(String)
        case issuer(String)
    }

    enum Grant: Sendable {
        case clientCredentials
        /// RFC 8693: the subject token comes from the delegating agent's manager.
        case tokenExchange(subject: AgentTokenManager)
    }

    /// The OAuth client this manager authenticates as.
    public nonisolated let clientID: String
    /// The scope asked for (space-separated, RFC 6749 §3.3); `nil` asks for all the client may have.
    public nonisolated let scope: String?
    /// The audiences asked for (RFC 8707 / RFC 8693 `audience`); empty asks for the client's default.
    public nonisolated let audience: [String]
    public nonisolated let configuration: Configuration

    private let client: ClientAuthentication
    private let grant: Grant
    private let endpoint: Endpoint
    private let transport: TokenEndpointClient
    private let now: @Sendable () -> ContinuousClock.Instant

    private var discoveredTokenURL: String?
    private var current: AccessToken?
    private var refreshing = false
    private var waiters: [UInt64: CheckedContinuation<AccessToken, any Error>] = [:]
    private var cancelledWaiters: Set<UInt64> = []
    private var nextWaiterID: UInt64 = 0

    /// A refresh that failed only for a passing reason still hands out the current token when it
    /// is valid for at least this long.
    static let fallbackValidity: Duration = .seconds(5)

    init(
        endpoint: Endpoint,
        client: ClientAuthentication,
        grant: Grant,
        scope: String?,
        audience: [String],
        configuration: Configuration,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.endpoint = endpoint
        self.client = client
        self.clientID = client.clientID
        self.grant = grant
        self.scope = scope
        self.audience = audience
        self.configuration = configuration
        self.now = now
        self.transport = TokenEndpointClient(
            httpClient: configuration.httpClient,
            retry: configuration.retry,
            requestTimeout: configuration.requestTimeout,
            now: now
        )
    }

    /// Tokens from `tokenURL` for a client that authenticates as `client`.
    public init(tokenURL: String, client: ClientAuthentication, scope: String? = nil, audience: [String] = [], configuration: Configuration = .init())
    {
        self.init(
            endpoint: .tokenURL(tokenURL),
            client: client,
            grant: .clientCredentials,
            scope: scope,
            audience: audience,
            configuration: configuration
        )
    }

    /// Tokens from `tokenURL` for a client with a secret, sent as HTTP Basic (`client_secret_basic`).
    public init(
        tokenURL: String,
        clientID: String,
        clientSecret: String,
        scope: String? = nil,
        audience: [String] = [],
        configuration: Configuration = .init()
    ) {
        self.init(
            tokenURL: tokenURL,
            client: .clientSecretBasic(clientID: clientID, clientSecret: clientSecret),
            scope: scope,
            audience: audience,
            configuration: configuration
        )
    }

    /// Tokens from the token endpoint that `issuer` publishes in its RFC 8414 metadata, found on
    /// the first request (and checked: the metadata must name this very issuer).
    public init(issuer: String, client: ClientAuthentication, scope: String? = nil, audience: [String] = [], configuration: Configuration = .init()) {
        self.init(
            endpoint: .issuer(issuer),
            client: client,
            grant: .clientCredentials,
            scope: scope,
            audience: audience,
            configuration: configuration
        )
    }

    /// As `init(issuer:client:…)`, for a client with a secret sent as HTTP Basic.
    public init(
        issuer: String,
        clientID: String,
        clientSecret: String,
        scope: String? = nil,
        audience: [String] = [],
        configuration: Configuration = .init()
    ) {
        self.init(
            issuer: issuer,
            client: .clientSecretBasic(clientID: clientID, clientSecret: clientSecret),
            scope: scope,
            audience: audience,
            configuration: configuration
        )
    }

    // MARK: Tokens

    /// A valid access token, from the cache or from one shared refresh.
    public func token() async throws -> String {
        try await accessToken().value
    }

    /// As `token()`, with what the server said about it (scope, lifetime).
    public func accessToken() async throws -> AccessToken {
        try Task.checkCancellation()
        if let current, isFresh(current) { return current }
        return try await waitForRefresh()
    }

    /// Forgets the cached token, whatever it is: the next call requests a new one.
    public func invalidate() {
        current = nil
    }

    /// Forgets the cached token if it is still `token`. Use this after an API refused `token`:
    /// when many requests fail with the same token at once, the first invalidation starts a
    /// refresh and the rest don't throw its result away.
    public func invalidate(_ token: String) {
        if current?.value == token { current = nil }
    }

    /// The endpoint tokens come from (discovered on first use for `init(issuer:…)`).
    public func tokenEndpoint() async throws -> String {
        switch endpoint {
        case .tokenURL(let url):
            return url
        case .issuer(let issuer):
            if let discoveredTokenURL { return discoveredTokenURL }
            let url = try await transport.discoverTokenEndpoint(issuer: issuer, method: client.authMethod)
            discoveredTokenURL = url
            return url
        }
    }

    // MARK: Delegation

    /// Delegates to a sub-agent (RFC 8693 token exchange): the sub-agent's client, `subAgent`,
    /// exchanges this manager's current token for one that can do at most `scope` (∩ what this
    /// token has), for `audience`, and expires no later than this token. The token names the
    /// sub-agent in its `act` claim. The first exchange happens now, so a refusal
    /// (`invalid_scope`, `access_denied`, …) is thrown here; the returned manager repeats the
    /// exchange whenever its token nears expiry, with a fresh token from this manager.
    public func delegate(scope: String?, audience: [String] = [], to subAgent: ClientAuthentication) async throws -> AgentTokenManager {
        let delegated = AgentTokenManager(
            endpoint: .tokenURL(try await tokenEndpoint()),
            client: subAgent,
            grant: .tokenExchange(subject: self),
            scope: scope,
            audience: audience,
            configuration: configuration,
            now: now
        )
        _ = try await delegated.accessToken()
        return delegated
    }

    // MARK: Refresh

    private func isFresh(_ token: AccessToken) -> Bool {
        now() < token.expiresAt - min(configuration.refreshMargin, token.lifetime / 2)
    }

    private func waitForRefresh() async throws -> AccessToken {
        let id = nextWaiterID
        nextWaiterID &+= 1
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                enqueue(id, continuation)
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    private func enqueue(_ id: UInt64, _ continuation: CheckedContinuation<AccessToken, any Error>) {
        if cancelledWaiters.remove(id) != nil {
            continuation.resume(throwing: CancellationError())
            return
        }
        waiters[id] = continuation
        guard !refreshing else { return }
        refreshing = true
        // Not a child of any caller: cancelling a caller must not cancel what the others wait on.
        Task { await self.refresh() }
    }

    private func cancelWaiter(_ id: UInt64) {
        if let continuation = waiters.removeValue(forKey: id) {
            continuation.resume(throwing: CancellationError())
        } else if id < nextWaiterID {
            // The handler ran before the continuation was registered; `enqueue` will see this.
            cancelledWaiters.insert(id)
        }
    }

    private func refresh() async {
        var result: Result<AccessToken, any Error>
        do {
            result = .success(try await requestToken())
        } catch {
            result = .failure(error)
        }
        switch result {
        case .success(let token):
            current = token
        case .failure(let error as AgentAuthClientError):
            if case .unavailable = error, let current, now() + Self.fallbackValidity < current.expiresAt {
                result = .success(current)
            }
        case .failure:
            break
        }
        refreshing = false
        let waiting = waiters
        waiters = [:]
        cancelledWaiters.removeAll()
        for continuation in waiting.values {
            continuation.resume(with: result)
        }
    }

    private func requestToken() async throws -> AccessToken {
        let url = try await tokenEndpoint()
        var parameters: [(name: String, value: String)]
        switch grant {
        case .clientCredentials:
            parameters = [("grant_type", "client_credentials")]
        case .tokenExchange(let subject):
            parameters = [
                ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
                ("subject_token", try await subject.token()),
                ("subject_token_type", TokenEndpointClient.accessTokenType),
                ("requested_token_type", TokenEndpointClient.accessTokenType),
            ]
        }
        if let scope { parameters.append(("scope", scope)) }
        parameters += audience.map { ("audience", $0) }
        return try await transport.requestToken(url: url, grant: parameters, client: client)
    }
}
