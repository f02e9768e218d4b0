import Foundation
public import JWTKit

/// Signs RFC 7523 client assertions: `iss` = `sub` = the client id, `aud` = the token endpoint
/// URL, a random `jti` (the server refuses a replayed one), and a short `exp`. The private key
/// stays in the agent; the server holds only the public JWKS registered with the client.
public struct PrivateKeyJWT: Sendable {
    enum Key: Sendable {
        case eddsa(EdDSA.PrivateKey)
        case es256(ES256PrivateKey)
    }

    let key: Key
    /// The `kid` of the registered public key; needed when the client's JWKS holds several keys.
    public let keyID: String?
    /// How long each assertion is valid for: whole seconds, 1 s to 1 h (the server's limit).
    public let lifetime: Duration

    /// An Ed25519 key (`alg` EdDSA).
    public init(key: EdDSA.PrivateKey, keyID: String? = nil, lifetime: Duration = .seconds(60)) {
        self.key = .eddsa(key)
        self.keyID = keyID
        self.lifetime = lifetime
    }

    /// A P-256 key (`alg` ES256).
    public init(key: ES256PrivateKey, keyID: String? = nil, lifetime: Duration = .seconds(60)) {
        self.key = .es256(key)
        self.keyID = keyID
        self.lifetime = lifetime
    }

    /// A signed assertion for one request to `audience` (the token endpoint URL).
    func assertion(clientID: String, audience: String, now: Date = Date()) async throws -> String {
        let keys = JWTKeyCollection()
        let kid = keyID.map { JWKIdentifier(string: $0) }
        switch key {
        case .eddsa(let key): await keys.add(eddsa: key, kid: kid)
        case .es256(let key): await keys.add(ecdsa: key, kid: kid)
        }
        let claims = AssertionClaims(
            iss: .init(value: clientID),
            sub: .init(value: clientID),
            aud: .init(value: [audience]),
            exp: .init(value: now.addingTimeInterval(Self.seconds(of: lifetime))),
            iat: .init(value: now),
            jti: .init(value: UUID().uuidString)
        )
        return try await keys.sign(claims, kid: kid)
    }

    /// Whole seconds (JWT times are NumericDate seconds), between 1 s and the server's 1 h limit.
    static func seconds(of lifetime: Duration) -> TimeInterval {
        min(max((lifetime / .seconds(1)).rounded(.up), 1), 3600)
    }

    struct AssertionClaims: JWTPayload {
        let iss: IssuerClaim
        let sub: SubjectClaim
        let aud: AudienceClaim
        let exp: ExpirationClaim
        let iat: IssuedAtClaim
        let jti: IDClaim

        func verify(using algorithm: some JWTAlgorithm) async throws {
            try exp.verifyNotExpired()
        }
    }
}
