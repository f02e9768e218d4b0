public import AgentAuthCore

/// How an agent proves who it is at the token endpoint (RFC 6749 §2.3, RFC 7523 §2.2): a
/// client id and one of the three methods AgentAuth supports. Secrets never appear in
/// `description` or in errors.
public struct ClientAuthentication: Sendable, CustomStringConvertible, CustomReflectable {
    enum Method: Sendable {
        case clientSecretBasic(secret: String)
        case clientSecretPost(secret: String)
        case privateKeyJWT(PrivateKeyJWT)
    }

    public let clientID: String
    let method: Method

    /// HTTP Basic with the form-urlencoded id and secret (RFC 6749 §2.3.1), the default method.
    public static func clientSecretBasic(clientID: String, clientSecret: String) -> Self {
        .init(clientID: clientID, method: .clientSecretBasic(secret: clientSecret))
    }

    /// `client_id` and `client_secret` in the form body (RFC 6749 §2.3.1, discouraged there, but
    /// some clients are registered for it).
    public static func clientSecretPost(clientID: String, clientSecret: String) -> Self {
        .init(clientID: clientID, method: .clientSecretPost(secret: clientSecret))
    }

    /// A JWT assertion signed with the client's private key (RFC 7523 §2.2); a fresh one, with a
    /// new `jti`, for every request.
    public static func privateKeyJWT(clientID: String, key: PrivateKeyJWT) -> Self {
        .init(clientID: clientID, method: .privateKeyJWT(key))
    }

    /// The RFC 7591 `token_endpoint_auth_method` this is.
    public var authMethod: ClientAuthMethod {
        switch method {
        case .clientSecretBasic: .clientSecretBasic
        case .clientSecretPost: .clientSecretPost
        case .privateKeyJWT: .privateKeyJWT
        }
    }

    public var description: String { "\(clientID) (\(authMethod.rawValue))" }

    /// `dump` and debuggers show the id and the method, never the secret or key.
    public var customMirror: Mirror {
        Mirror(self, children: ["clientID": clientID, "authMethod": authMethod.rawValue], displayStyle: .struct)
    }
}
