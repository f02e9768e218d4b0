import Crypto
public import Foundation
import JWTKit

/// Authenticates OAuth clients: secrets by SHA-256 and a constant-time comparison (an unknown
/// client costs the same as a wrong secret), `private_key_jwt` assertions per RFC 7523 §3
/// against the client's registered JWKS with a `jti` replay cache until `exp`. Every failure is
/// a `ClientAuthenticationFailure`, answered as the same `invalid_client`.
public struct ClientAuthenticator: Sendable {
    let store: any AgentAuthStore
    let now: @Sendable () -> Date
    /// An assertion's `aud` (draft-ietf-oauth-rfc7523bis): the issuer as its sole value, or the
    /// token endpoint URL as a single string.
    let issuer: String
    let tokenEndpoint: String
    let leeway: TimeInterval
    /// Clients and agents already read, while the store reports no change; `nil`: read every time.
    let cache: ClientAgentCache?

    /// Algorithms accepted for client assertions. Never `none` or HMAC (RFC 8725 §3.1, §3.2).
    public static let assertionAlgorithms: Set<String> = ["EdDSA", "ES256", "RS256", "PS256"]
    /// The longest an assertion may be valid for: a replay cache entry lives this long at most.
    public static let maxAssertionLifetime: TimeInterval = 3600

    public init(
        store: any AgentAuthStore,
        issuer: String,
        tokenEndpoint: String,
        leeway: TimeInterval = 30,
        cache: ClientAgentCache? = nil,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.store = store
        self.cache = cache
        self.issuer = issuer
        self.tokenEndpoint = tokenEndpoint
        self.leeway = leeway
        self.now = now
    }

    /// Returns the client and its agent, or throws `ClientAuthenticationFailure` (store failures
    /// propagate as they are).
    public func authenticate(_ credentials: ClientCredentials) async throws -> (client: OAuthClient, agent: Agent) {
        switch credentials {
        case .basic(let clientID, let secret), .post(let clientID, let secret):
            let found = try await lookUp(clientID)
            // Always hash and compare, even for an unknown client, so both cost the same.
            let presented = Self.digest(secret)
            let current = found?.client.secretHash.flatMap(Self.hexBytes) ?? Self.dummyHash
            var matches = Self.constantTimeEquals(presented, current)
            if let client = found?.client, let previous = client.previousSecretHash.flatMap(Self.hexBytes),
                let until = client.previousSecretExpiresAt, until > now()
            {
                matches = Self.constantTimeEquals(presented, previous) || matches
            }
            guard let found else { throw ClientAuthenticationFailure(.unknownClient) }
            guard found.client.authMethod == credentials.method, found.client.secretHash != nil else {
                throw ClientAuthenticationFailure(.wrongMethod, client: found.client)
            }
            guard matches else { throw ClientAuthenticationFailure(.wrongSecret, client: found.client) }
            try ensureActive(found)
            return found
        case .assertion(let jwt, let clientID):
            return try await verifyAssertion(jwt, claimedClientID: clientID)
        }
    }

    private func lookUp(_ clientID: String) async throws -> (client: OAuthClient, agent: Agent)? {
        guard !clientID.isEmpty, clientID.utf8.count <= ClientAdministration.maxClientIDLength else { return nil }
        guard let cache else { return try await store.clientWithAgent(id: clientID) }
        return try await cache.clientWithAgent(id: clientID) { id in try await store.clientWithAgent(id: id) }
    }

    private func ensureActive(_ found: (client: OAuthClient, agent: Agent)) throws {
        guard found.agent.status == .active else { throw ClientAuthenticationFailure(.agentDisabled, client: found.client) }
        guard found.client.status == .active else { throw ClientAuthenticationFailure(.clientDisabled, client: found.client) }
    }

    // MARK: private_key_jwt (RFC 7523 §3)

    private func verifyAssertion(_ jwt: String, claimedClientID: String?) async throws -> (client: OAuthClient, agent: Agent) {
        let invalid = ClientAuthenticationFailure(.invalidAssertion)
        let jws: CompactJWS
        do {
            jws = try CompactJWS(parsing: jwt)
        } catch {
            throw invalid
        }
        let header = jws.header
        guard Self.assertionAlgorithms.contains(header.alg), header.memberNames.isDisjoint(with: JOSEHeader.forbiddenMembers) else {
            throw invalid
        }
        // An access token is not a client assertion (RFC 8725 §3.11: keep token kinds apart).
        if let typ = header.typ, TokenVerifier.isAccessTokenType(typ) { throw invalid }
        let claims: AssertionClaims
        do {
            claims = try JSONDecoder().decode(AssertionClaims.self, from: jws.payload)
        } catch {
            throw invalid
        }
        guard claims.iss == claims.sub, claimedClientID == nil || claimedClientID == claims.iss else { throw invalid }
        guard let found = try await lookUp(claims.iss) else { throw ClientAuthenticationFailure(.unknownClient) }
        let failure = ClientAuthenticationFailure(.invalidAssertion, client: found.client)
        guard found.client.authMethod == .privateKeyJWT, let jwks = found.client.jwks else {
            throw ClientAuthenticationFailure(.wrongMethod, client: found.client)
        }
        guard try await Self.signatureVerifies(jws, header: header, jwks: jwks) else { throw failure }
        let now = self.now()
        guard isOwnAudience(claims.aud), !claims.jti.isEmpty, claims.jti.utf8.count <= 256,
            claims.exp.timeIntervalSince(now) > -leeway,
            claims.exp.timeIntervalSince(now) <= Self.maxAssertionLifetime + leeway,
            (claims.nbf?.timeIntervalSince(now) ?? 0) <= leeway,
            (claims.iat?.timeIntervalSince(now) ?? 0) <= leeway
        else {
            throw failure
        }
        try ensureActive(found)
        let expiry = max(claims.exp, now).addingTimeInterval(leeway)
        guard try await store.recordAssertionID(claims.jti, clientID: found.client.clientID, expiresAt: expiry, now: now) else {
            throw ClientAuthenticationFailure(.replayedAssertion, client: found.client)
        }
        return found
    }

    /// draft-ietf-oauth-rfc7523bis §4: the issuer as the sole audience (a string or a one-member
    /// array), or, for older clients, the token endpoint URL as a single string. An array that also
    /// names someone else is refused: such an assertion could be replayed at that other party.
    func isOwnAudience(_ audience: AssertionClaims.Audience) -> Bool {
        switch audience {
        case .single(let value): value == issuer || value == tokenEndpoint
        case .array(let values): values == [issuer]
        }
    }

    static func signatureVerifies(_ jws: CompactJWS, header: JOSEHeader, jwks: String) async throws -> Bool {
        guard let set = try? JSONDecoder().decode(JWKS.self, from: Data(jwks.utf8)) else { return false }
        let candidates = set.keys.filter { key in
            if let kid = header.kid { return key.keyIdentifier?.string == kid }
            return true
        }
        // Without a kid the set must hold exactly one key: the token never picks among keys by trial.
        guard let jwk = candidates.first, candidates.count == 1 else { return false }
        if let algorithm = jwk.algorithm, algorithm.rawValue != header.alg { return false }
        guard Self.keyType(jwk.keyType, fits: header.alg), let jwkAlgorithm = JWK.Algorithm(rawValue: header.alg) else { return false }
        // A key registered before the size rule: still refused.
        if jwk.keyType == .rsa, !RSAKeySize.isStrongEnough(modulus: jwk.modulus ?? "") { return false }
        var keyed = jwk
        keyed.keyIdentifier = "assertion-key"
        let collection = JWTKeyCollection()
        guard (try? await collection.add(jwk: keyed)) != nil,
            let algorithm = try? await collection.getKey(for: "assertion-key", alg: jwkAlgorithm.rawValue)
        else { return false }
        return (try? algorithm.verify(jws.signature, signs: jws.signingInput)) ?? false
    }

    static func keyType(_ type: JWK.KeyType, fits alg: String) -> Bool {
        switch alg {
        case "EdDSA": type == .octetKeyPair
        case "ES256": type == .ecdsa
        case "RS256", "PS256": type == .rsa
        default: false
        }
    }

    struct AssertionClaims: Decodable {
        enum Audience: Hashable {
            case single(String)
            case array([String])
        }

        let iss: String
        let sub: String
        let aud: Audience
        let exp: Date
        let nbf: Date?
        let iat: Date?
        let jti: String

        enum CodingKeys: String, CodingKey { case iss, sub, aud, exp, nbf, iat, jti }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            iss = try container.decode(String.self, forKey: .iss)
            sub = try container.decode(String.self, forKey: .sub)
            if let single = try? container.decode(String.self, forKey: .aud) {
                aud = .single(single)
            } else {
                aud = .array(try container.decode([String].self, forKey: .aud))
            }
            exp = Date(timeIntervalSince1970: try container.decode(Double.self, forKey: .exp))
            nbf = try container.decodeIfPresent(Double.self, forKey: .nbf).map(Date.init(timeIntervalSince1970:))
            iat = try container.decodeIfPresent(Double.self, forKey: .iat).map(Date.init(timeIntervalSince1970:))
            jti = try container.decode(String.self, forKey: .jti)
        }
    }

    // MARK: Secrets

    static func digest(_ secret: String) -> [UInt8] { Array(SHA256.hash(data: Data(secret.utf8))) }

    static let dummyHash = digest("agentauth: no such client")

    static func hexBytes(_ hex: String) -> [UInt8]? {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        func nibble(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for index in stride(from: 0, to: 64, by: 2) {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    /// Compares two digests in time independent of where they differ.
    static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
