public import AsyncHTTPClient
public import NIOCore
public import NIOHTTP1

/// Calls APIs as an agent: each request carries the agent's credential, a Bearer token from an
/// `AgentTokenManager` or an API key in `X-API-Key`. When an API answers 401 with
/// `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1: expired, revoked, …), the
/// token is invalidated and the request sent once more with a fresh one. An API key can't be
/// refreshed, so its 401 is returned as it is.
public struct AgentHTTPClient: Sendable {
    enum Credential: Sendable {
        case bearer(AgentTokenManager)
        case apiKey(String)
    }

    let credential: Credential
    let httpClient: HTTPClient

    /// The largest 401 body read (and dropped) before the retry.
    static let maxDrainedBytes = 64 * 1024

    /// Requests with `Authorization: Bearer`, tokens from `tokens`. The default client follows
    /// no redirects: a redirect is returned to the caller, not sent the token.
    public init(tokens: AgentTokenManager, httpClient: HTTPClient = .agentAuth) {
        self.credential = .bearer(tokens)
        self.httpClient = httpClient
    }

    /// Requests with `X-API-Key`. With the default client no redirect is followed:
    /// AsyncHTTPClient would carry the key to another origin.
    public init(apiKey: String, httpClient: HTTPClient = .agentAuth) {
        self.credential = .apiKey(apiKey)
        self.httpClient = httpClient
    }

    /// Sends one request. The body is a buffer, not a stream, so it can be sent again on the retry.
    public func execute(
        _ method: HTTPMethod = .GET,
        _ url: String,
        headers: HTTPHeaders = [:],
        body: ByteBuffer? = nil,
        timeout: Duration = .seconds(30)
    ) async throws -> HTTPClientResponse {
        switch credential {
        case .apiKey(let key):
            return try await send(method, url, headers: headers, body: body, timeout: timeout, credential: ("X-API-Key", key))
        case .bearer(let tokens):
            let token = try await tokens.token()
            let response = try await send(
                method,
                url,
                headers: headers,
                body: body,
                timeout: timeout,
                credential: ("Authorization", "Bearer " + token)
            )
            guard response.status == .unauthorized, BearerChallenge.saysInvalidToken(response.headers) else {
                return response
            }
            // Read the refused answer to its end so its connection goes back to the pool.
            _ = try? await response.body.collect(upTo: Self.maxDrainedBytes)
            await tokens.invalidate(token)
            let fresh = try await tokens.token()
            return try await send(method, url, headers: headers, body: body, timeout: timeout, credential: ("Authorization", "Bearer " + fresh))
        }
    }

    private func send(
        _ method: HTTPMethod,
        _ url: String,
        headers: HTTPHeaders,
        body: ByteBuffer?,
        timeout: Duration,
        credential: (name: String, value: String)
    ) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers = headers
        request.headers.replaceOrAdd(name: credential.name, value: credential.value)
        if let body { request.body = .bytes(body) }
        return try await httpClient.execute(request, timeout: TimeAmount(timeout))
    }
}
