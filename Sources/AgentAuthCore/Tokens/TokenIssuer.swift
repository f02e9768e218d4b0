public import Foundation
import JWTKit
import Synchronization

/// Signs access tokens with the key ring's active key: header `{"alg","kid","typ":"at+jwt"}`,
/// RFC 9068 claims, a random `jti`.
public struct TokenIssuer: Sendable {
    public let issuer: String
    let keys: SigningKeyRing
    public let now: @Sendable () -> Date

    public init(issuer: String, keys: SigningKeyRing, now: @escaping @Sendable () -> Date = Date.init) {
        self.issuer = issuer
        self.keys = keys
        self.now = now
    }

    public struct IssuedToken: Sendable {
        public let token: String
        public let claims: AccessTokenClaims
        public let kid: String
    }

    /// - Parameter issuedAt: the token's `iat` (whole seconds, rounded down); now when `nil`. A
    ///   grant dates a token from before it read the agents the token speaks for, so that a
    ///   disable after those reads always covers it.
    public func issue(
        subject: String,
        clientID: String,
        audience: [String],
        scope: ScopeSet,
        lifetime: Int,
        actors: [String] = [],
        ancestors: [String] = [],
        issuedAt: Date? = nil
    ) async throws -> IssuedToken {
        let key = try await keys.activeKey()
        // Whole seconds: NumericDates are written as integers.
        let issuedAt = Date(timeIntervalSince1970: (issuedAt ?? now()).timeIntervalSince1970.rounded(.down))
        let claims = AccessTokenClaims(
            issuer: issuer,
            subject: subject,
            clientID: clientID,
            audience: audience,
            expiresAt: issuedAt.addingTimeInterval(TimeInterval(lifetime)),
            issuedAt: issuedAt,
            notBefore: issuedAt,
            tokenID: Identifier.make(prefix: "at_"),
            scope: scope,
            actors: actors,
            ancestors: ancestors
        )
        let token = try Self.sign(claims, with: key)
        return IssuedToken(token: token, claims: claims, kid: key.kid)
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Compact JWS serialisation (RFC 7515 §7.1); the signature is jwt-kit's.
    static func sign(_ claims: some Encodable, with key: SigningKeyMaterial, typ: String = "at+jwt") throws -> String {
        let header = try encodedHeader(Header(alg: key.algorithm.rawValue, kid: key.kid, typ: typ))
        let payload = Base64URL.encode(try encoder.encode(claims))
        let signingInput = header + "." + payload
        let signature = try key.jwtAlgorithm.sign(Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }

    struct Header: Encodable, Hashable {
        let alg: String
        let kid: String
        let typ: String
    }

    /// Encoded headers by value: a server signs with one or two keys, and encoding the same
    /// header for every token was a JSON encoding per request for nothing. Bounded by clearing,
    /// since a header is cheap to encode again.
    private static let headers = Mutex<[Header: String]>([:])

    static func encodedHeader(_ header: Header) throws -> String {
        if let known = headers.withLock({ $0[header] }) { return known }
        let encoded = Base64URL.encode(try encoder.encode(header))
        headers.withLock { headers in
            if headers.count >= 16 { headers.removeAll() }
            headers[header] = encoded
        }
        return encoded
    }
}
