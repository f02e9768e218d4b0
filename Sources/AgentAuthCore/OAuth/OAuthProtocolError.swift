/// An error of the OAuth protocol itself (RFC 6749 §5.2, RFC 8707 §2, RFC 8693 §2.2.2),
/// with a description safe to return to the client.
public struct OAuthProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: OAuthErrorCode
    public var reason: String

    public init(_ code: OAuthErrorCode, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code.rawValue): \(reason)" }

    public static func invalidRequest(_ reason: String) -> Self { .init(.invalidRequest, reason) }
    /// Every client-authentication failure gets this one description, whatever the cause.
    public static let invalidClient = OAuthProtocolError(.invalidClient, "client authentication failed")
}
