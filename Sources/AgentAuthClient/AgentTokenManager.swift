public import AsyncHTTPClient
import Foundation
import NIOCore

/// Gets an agent's access tokens and keeps one ready: requested once, cached, and replaced
/// `refreshMargin` (default 60 s) before it expires. However many tasks ask at once, one token
/// request is in flight at a time and every caller gets its result.
///
/// ```swift
/// let tokens = AgentTokenManager(
///     tokenURL: "https://auth.example.com/oauth/token",
///     clientID: "cli_research", clientSecret: secret, scope: "conversations:read")
/// let bearer = try await tokens.token()
/// ```
///
/// - Inside the margin, callers keep getting the current token while the refresh runs behind
///   them; only a caller with no token, or one about to expire, waits for the refresh.
/// - A caller that is cancelled stops waiting at once with `CancellationError`; the refresh it
///   was waiting on goes on for the others (and for the next caller).
/// - Network errors and 5xx answers are retried per `RetryPolicy`; a 4xx is final and thrown as
///   `TokenRequestError`. After a 429 with `Retry-After`, callers get that error without a new
///   request until the time is up.
/// - After a 401 from an API, `invalidate(_:)` the token it refused; the next call gets a new one.
public actor AgentTokenManager {
    /// Settings shared by a manager and the managers it delegates to.
    public struct Configuration: Sendable {
        /// How long before expiry a token is replaced. Never more than half a token's lifetime,
        /// so a short-lived token is not refreshed on every call.
        public var refreshMargin: Duration
        /// When a failed token request is tried again.
        public var retry: RetryPolicy
        /// The limit for one token request, answer included (each attempt).
        public var requestTimeout: Duration
        /// The lifetime assumed for a token whose response has no `expires_in` (RFC 6749 §5.1
        /// only recommends it). An API's 401 still replaces a token that lived less.
        public var lifetimeWhenUnstated: Duration
        /// The client for token and discovery requests (default `HTTPClient.agentAuth`: no
        /// redirects, fast connection failures).
        public var httpClient: HTTPClient

        public init(
            refreshMargin: Duration = .seconds(60),
            retry: RetryPolicy = .default,
            requestTimeout: Duration = .seconds(10),
            lifetimeWhenUnstated: Duration = .seconds(300),
            httpClient: HTTPClient = .agentAuth
        ) {
            self.refreshMargin = refreshMargin
            self.retry = retry
            self.requestTimeout = requestTimeout
            self.lifetimeWhenUnstated = lifetimeWhenUnstated
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
    /// The settings; managers made by `delegate` share them.
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
    private var nextWaiterID: UInt64 = 0
    /// After a refresh behind the callers failed, the next one waits until then.
    private var nextBackgroundRefresh: ContinuousClock.Instant?
    /// After a 429 with `Retry-After`: no request before then; waiting callers get the error.
    private var throttled: (error: TokenRequestError, until: ContinuousClock.Instant)?

    /// A refresh that failed only for a passing reason still hands out the current token when it
    /// is valid for at least this long.
    static let fallbackValidity: Duration = .seconds(5)
    /// Inside the margin, the current token is handed out while it has at least this long left
    /// (or half the margin, if less); after that, callers wait for the refresh.
    static let blockingValidity: Duration = .seconds(10)
    /// The pause after a failed refresh behind the callers before the next one starts.
    static let backgroundRetryInterval: Duration = .seconds(1)

    init(
        endpoint: Endpoint,
        client: ClientAuthentication,
        grant: Grant = .clientCredentials,
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
            now: now,
            lifetimeWhenUnstated: configuration.lifetimeWhenUnstated
        )
    }

    /// Tokens from `tokenURL` for a client that authenticates as `client`.
    public init(tokenURL: String, client: ClientAuthentication, scope: String? = nil, audience: [String] = [], configuration: Configuration = .init())
    {
        self.init(endpoint: .tokenURL(tokenURL), client: client, scope: scope, audience: audience, configuration: configuration)
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
        self.init(endpoint: .issuer(issuer), client: client, scope: scope, audience: audience, configuration: configuration)
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
        let now = now()
        if let current {
            if now < current.expiresAt - margin(for: current) { return current }
            if now < current.expiresAt - min(Self.blockingValidity, margin(for: current) / 2) {
                refreshBehindCallers(now: now)
                return current
            }
        }
        return try await freshAccessToken()
    }

    /// A token outside the refresh margin: waits for the refresh when the current one is inside
    /// it. Token exchange uses this, so a delegated token isn't cut short by a parent's token
    /// about to be replaced.
    func freshAccessToken() async throws -> AccessToken {
        try Task.checkCancellation()
        if let current, now() < current.expiresAt - margin(for: current) { return current }
        if let throttled, now() < throttled.until { throw throttled.error }
        return try await waitForRefresh()
    }

    /// Forgets the cached token, whatever it is: the next call requests a new one (or joins a
    /// refresh already under way).
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

    /// The margin for `token`: never more than half its lifetime, so a short-lived token is not
    /// replaced on every call.
    private func margin(for token: AccessToken) -> Duration {
        min(configuration.refreshMargin, token.lifetime / 2)
    }

    private func refreshBehindCallers(now: ContinuousClock.Instant) {
        guard !refreshing else { return }
        if let nextBackgroundRefresh, now < nextBackgroundRefresh { return }
        if let throttled, now < throttled.until { return }
        startRefresh()
    }

    private func startRefresh() {
        refreshing = true
        // Not a child of any caller: cancelling a caller must not cancel what the others wait on.
        Task { await self.refresh() }
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
        if Task.isCancelled {
            continuation.resume(throwing: CancellationError())
            return
        }
        waiters[id] = continuation
        if !refreshing { startRefresh() }
    }

    /// A waiter that is gone was resumed already, by the refresh. (`enqueue` runs before any
    /// cancellation handler's task can reach the actor: the continuation's body runs on it at once.)
    private func cancelWaiter(_ id: UInt64) {
        waiters.removeValue(forKey: id)?.resume(throwing: CancellationError())
    }

    private func refresh() async {
        var result: Result<AccessToken, any Error>
        do {
            result = .success(try await requestToken())
        } catch {
            result = .failure(error)
        }
        let now = now()
        switch result {
        case .success(let token):
            current = token
            nextBackgroundRefresh = nil
            throttled = nil
        case .failure(let error):
            nextBackgroundRefresh = now + Self.backgroundRetryInterval
            if let refusal = error as? TokenRequestError, refusal.status == 429, let wait = refusal.retryAfter {
                throttled = (refusal, now + wait)
            }
            if case .unavailable = error as? AgentAuthClientError, let current, now + Self.fallbackValidity < current.expiresAt {
                result = .success(current)
            }
        }
        refreshing = false
        let waiting = waiters
        waiters = [:]
        for continuation in waiting.values {
            continuation.resume(with: result)
        }
    }

    private func requestToken() async throws -> AccessToken {
        let url = try await tokenEndpoint()
        let requested = (scope.map { [("scope", $0)] } ?? []) + audience.map { ("audience", $0) }
        switch grant {
        case .clientCredentials:
            return try await transport.requestToken(url: url, grant: [("grant_type", "client_credentials")] + requested, client: client)
        case .tokenExchange(let subject):
            let subjectToken = try await subject.freshAccessToken().value
            do {
                return try await exchange(subjectToken, at: url, requested: requested)
            } catch let error as TokenRequestError where error.code == .invalidRequest || error.code == .invalidGrant {
                // The parent's token may have been revoked while its manager still holds it: try
                // once more with a new one. (A disabled parent fails to get one, and that is thrown.)
                await subject.invalidate(subjectToken)
                let renewed = try await subject.freshAccessToken().value
                guard renewed != subjectToken else { throw error }
                return try await exchange(renewed, at: url, requested: requested)
            }
        }
    }

    private func exchange(_ subjectToken: String, at url: String, requested: [(name: String, value: String)]) async throws -> AccessToken {
        let parameters: [(name: String, value: String)] = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
            ("subject_token", subjectToken),
            ("subject_token_type", TokenEndpointClient.accessTokenType),
            ("requested_token_type", TokenEndpointClient.accessTokenType),
        ]
        return try await transport.requestToken(url: url, grant: parameters + requested, client: client)
    }
}
