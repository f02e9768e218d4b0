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

    /// The client id as presented (for rate limiting and logs; unauthenticated): for an
    /// assertion without `client_id`, its unverified `iss`.
    public var claimedClientID: String? {
        switch self {
        case .basic(let id, _), .post(let id, _): return id
        case .assertion(let jwt, let id):
            if let id { return id }
            struct Issuer: Decodable { let iss: String }
            guard let jws = try? CompactJWS(parsing: jwt) else { return nil }
            return (try? JSONDecoder().decode(Issuer.self, from: jws.payload))?.iss
        }
    }

    public static let assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
}
