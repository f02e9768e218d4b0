import Foundation

/// What a request presented to authenticate a client (RFC 6749 §2.3, RFC 7523 §2.2).
public enum ClientCredentials: Sendable, Hashable {
    /// HTTP Basic with form-urlencoded id and secret.
    case basic(clientID: String, secret: String)
    /// `client_id` and `client_secret` in the form body.
    case post(clientID: String, secret: String)
    /// `client_assertion` (a JWT signed with a key of the client's registered JWKS).
    case assertion(jwt: String, clientID: String?)

    public var method: ClientAuthMethod {
        switch self {
        case .basic: .clientSecretBasic
        case .post: .clientSecretPost
        case .assertion: .privateKeyJWT
        }
    }

    public static let assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
}
