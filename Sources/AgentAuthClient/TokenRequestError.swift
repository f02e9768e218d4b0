public import AgentAuthCore

/// The token endpoint refused the request (a 4xx): an RFC 6749 §5.2 error response, or an
/// RFC 8693 §2.2.2 / RFC 8707 one. Asking again won't help, so it is never retried.
///
/// ```swift
/// do { _ = try await tokens.token() }
/// catch let error as TokenRequestError where error.code == .invalidClient { … }
/// ```
public struct TokenRequestError: Error, Sendable, Hashable, CustomStringConvertible {
    @available(*, deprecated, renamed: "OAuthErrorCode")
    public typealias Code = OAuthErrorCode

    /// `nil` when the answer was not an OAuth error object (a proxy's 404 page, say).
    public let code: OAuthErrorCode?
    /// `error_description`, human-readable, from the server.
    public let errorDescription: String?
    /// `error_uri`.
    public let errorURI: String?
    /// The HTTP status.
    public let status: Int
    /// `Retry-After`, when the server sent one (with 429).
    public let retryAfter: Duration?

    public var description: String {
        let name = code?.rawValue ?? "HTTP \(status)"
        return errorDescription.map { "\(name): \($0)" } ?? name
    }
}
