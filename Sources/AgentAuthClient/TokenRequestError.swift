/// The token endpoint refused the request (a 4xx): an RFC 6749 §5.2 error response, or an
/// RFC 8693 §2.2.2 / RFC 8707 one. Asking again won't help, so it is never retried.
///
/// ```swift
/// do { _ = try await tokens.token() }
/// catch let error as TokenRequestError where error.code == .invalidClient { … }
/// ```
public struct TokenRequestError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The `error` member. An open set: servers may send codes of extensions.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let invalidRequest = Code(rawValue: "invalid_request")
        public static let invalidClient = Code(rawValue: "invalid_client")
        public static let invalidGrant = Code(rawValue: "invalid_grant")
        public static let unauthorizedClient = Code(rawValue: "unauthorized_client")
        public static let unsupportedGrantType = Code(rawValue: "unsupported_grant_type")
        public static let invalidScope = Code(rawValue: "invalid_scope")
        /// RFC 8707 §2 / RFC 8693 §2.2.2: an audience the client may not have.
        public static let invalidTarget = Code(rawValue: "invalid_target")
        /// The subject's delegation policy does not allow this agent to act for it.
        public static let accessDenied = Code(rawValue: "access_denied")
        /// Too many failed attempts; see `retryAfter`.
        public static let tooManyRequests = Code(rawValue: "too_many_requests")
    }

    /// `nil` when the answer was not an OAuth error object (a proxy's 404 page, say).
    public let code: Code?
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
