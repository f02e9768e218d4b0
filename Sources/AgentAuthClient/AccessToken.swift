/// An access token as the token endpoint issued it (RFC 6749 §5.1, RFC 8693 §2.2.1). The
/// token itself is opaque to the agent: its lifetime comes from `expires_in`, counted on the
/// agent's own monotonic clock from the moment the response arrived, so clock skew between
/// agent and server doesn't matter.
public struct AccessToken: Sendable, Hashable, CustomStringConvertible, CustomReflectable {
    /// The token, for an `Authorization: Bearer` header.
    public let value: String
    /// The granted scope; `nil` when the server left it out (then it is the requested one).
    public let scope: String?
    /// `expires_in` as the server sent it.
    public let lifetime: Duration
    /// When the response arrived.
    public let receivedAt: ContinuousClock.Instant
    /// RFC 8693 `issued_token_type`, for tokens from an exchange.
    public let issuedTokenType: String?

    public var expiresAt: ContinuousClock.Instant { receivedAt + lifetime }

    /// Never the token itself: descriptions end up in logs.
    public var description: String { "access token (scope: \(scope ?? "as requested"), lifetime: \(lifetime))" }

    /// `dump` and debuggers show everything but the token itself.
    public var customMirror: Mirror {
        Mirror(self, children: ["scope": scope as Any, "lifetime": lifetime, "issuedTokenType": issuedTokenType as Any], displayStyle: .struct)
    }
}
