/// The `error` member of an OAuth error response: one type for the auth server, the middleware
/// and the SDK. An open set, as OAuth's error registry is (RFC 6749 §11.4): a server may answer
/// with a code of an extension, and the SDK keeps it as it came. Only `rawValue` reaches the wire.
///
/// ```swift
/// catch let error as TokenRequestError where error.code == .invalidClient { … }
/// ```
public struct OAuthErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    // RFC 6749 §5.2 (token endpoint) and §4.1.2.1.

    /// A parameter is missing, repeated, unsupported or malformed (also RFC 6750 §3.1, RFC 8693 §2.2.2).
    public static let invalidRequest = Self(rawValue: "invalid_request")
    /// Client authentication failed.
    public static let invalidClient = Self(rawValue: "invalid_client")
    /// The grant (a subject token, an assertion) is invalid, expired or revoked.
    public static let invalidGrant = Self(rawValue: "invalid_grant")
    /// The client may not use this grant type.
    public static let unauthorizedClient = Self(rawValue: "unauthorized_client")
    public static let unsupportedGrantType = Self(rawValue: "unsupported_grant_type")
    /// The requested scope is invalid, unknown, malformed, or more than the client may have.
    public static let invalidScope = Self(rawValue: "invalid_scope")
    /// The resource owner (here: the subject's delegation policy) refused.
    public static let accessDenied = Self(rawValue: "access_denied")
    public static let serverError = Self(rawValue: "server_error")
    /// The server cannot answer now; the caller may try again (with `Retry-After`).
    public static let temporarilyUnavailable = Self(rawValue: "temporarily_unavailable")

    // RFC 6750 §3.1 (protected resources).

    /// The access token (or API key) is expired, revoked, malformed or invalid.
    public static let invalidToken = Self(rawValue: "invalid_token")
    /// The credential is valid but lacks the scope the request needs.
    public static let insufficientScope = Self(rawValue: "insufficient_scope")

    /// RFC 7009 §2.2.1: the server does not revoke tokens of the hinted type.
    public static let unsupportedTokenType = Self(rawValue: "unsupported_token_type")

    /// RFC 8707 §2, RFC 8693 §2.2.2: an audience or resource the client may not have.
    public static let invalidTarget = Self(rawValue: "invalid_target")

    // AgentAuth's own, where no RFC names the condition.

    /// Too many failed attempts, or too many open feed polls; see `Retry-After`.
    public static let tooManyRequests = Self(rawValue: "too_many_requests")
    /// A rate limit or quota of the agent or credential refused the request (429, `Retry-After`).
    public static let rateLimited = Self(rawValue: "rate_limited")
    /// A request without any credential at a protected resource (RFC 6750 §3.1 sends no error
    /// attribute in the challenge; the JSON body still needs a code).
    public static let unauthorized = Self(rawValue: "unauthorized")
    public static let forbidden = Self(rawValue: "forbidden")
    public static let notFound = Self(rawValue: "not_found")
    public static let methodNotAllowed = Self(rawValue: "method_not_allowed")
    public static let conflict = Self(rawValue: "conflict")
    public static let requestTooLarge = Self(rawValue: "request_too_large")
}
