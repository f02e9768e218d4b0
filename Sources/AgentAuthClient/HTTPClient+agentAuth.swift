public import AsyncHTTPClient
import NIOCore

extension HTTPClient {
    /// The SDK's default client, for token requests and for API calls alike:
    /// - redirects are not followed: a 307 would resend a token request's form (a secret, an
    ///   assertion, a subject token) to wherever it points, and AsyncHTTPClient keeps headers
    ///   such as `X-API-Key` across origins;
    /// - a connection attempt fails after 3 s and is not retried by the pool, so every failure
    ///   goes through the token manager's backoff instead of waiting out a deadline.
    public static let agentAuth: HTTPClient = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(3))
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()
}
