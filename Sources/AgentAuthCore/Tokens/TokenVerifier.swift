public import Foundation
import JWTKit

/// Verifies AgentAuth access tokens (DESIGN.md "Access tokens", RFC 9068 §4, RFC 8725):
/// strict compact form, an allowed `alg` equal to the key's, `typ: at+jwt`, a known `kid`,
/// no header-supplied keys or extensions, then the signature (jwt-kit), then strictly typed
/// claims, issuer, audience and times with a small leeway.
public struct TokenVerifier: Sendable {
    public struct Policy: Sendable {
        public var issuer: String
        /// The token's `aud` must contain at least one of these; `nil` accepts any audience
        /// (introspection, which reports the audience instead of enforcing one).
        public var audiences: Set<String>?
        public var algorithms: Set<SigningAlgorithm>
        /// Clock skew allowed for `nbf` and `iat`, and (unless `expiryLeeway` says otherwise) for `exp`.
        public var leeway: TimeInterval
        /// Clock skew allowed past `exp`. The auth server checks its own tokens with 0: it has no
        /// skew against itself, and introspection must not call an expired token active (RFC 7662 §2.2).
        public var expiryLeeway: TimeInterval

        public init(
            issuer: String,
            audiences: Set<String>?,
            algorithms: Set<SigningAlgorithm> = Set(SigningAlgorithm.allCases),
            leeway: TimeInterval = TokenVerifier.defaultLeeway,
            expiryLeeway: TimeInterval? = nil
        ) {
            self.issuer = issuer
            self.audiences = audiences
            self.algorithms = algorithms
            self.leeway = leeway
            self.expiryLeeway = expiryLeeway ?? leeway
        }
    }

    /// Clock skew allowed by default (DESIGN.md "Access tokens": a small leeway, 30 s).
    public static let defaultLeeway: TimeInterval = 30

    public let policy: Policy
    let keys: any VerificationKeySource
    let now: @Sendable () -> Date
    /// Revoked token ids and disabled agents; `nil` skips the check.
    public let revocations: RevocationList?
    /// Tokens this verifier already accepted; `nil` verifies every token in full.
    public let cache: VerifiedTokenCache?

    /// The same verifier with another policy (e.g. any audience, for introspection). The cache
    /// is not carried over: what one policy accepted, another may refuse.
    public func with(policy: Policy, cache: VerifiedTokenCache? = nil) -> TokenVerifier {
        TokenVerifier(policy: policy, keys: keys, revocations: revocations, cache: cache, now: now)
    }

    /// - Parameter cache: when given, a token verified once is looked up there on its next
    ///   presentations (until its `exp`) instead of being decoded and its signature checked again;
    ///   revocations are checked every time either way. Give each policy its own cache.
    public init(
        policy: Policy,
        keys: any VerificationKeySource,
        revocations: RevocationList? = nil,
        cache: VerifiedTokenCache? = nil,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.policy = policy
        self.keys = keys
        self.revocations = revocations
        self.cache = cache
        self.now = now
    }

    /// The longest `kid` looked up; longer ones are refused without a lookup.
    static let maxKeyIDLength = 128

    public func verify(_ token: String) async throws(TokenRejection) -> AccessTokenClaims {
        if let cache {
            let now = self.now()
            // Read before the key is: a key dropped meanwhile leaves this entry to be verified again.
            let revision = keys.trustRevision
            if let claims = cache.claims(for: token, now: now, revision: revision) {
                if let revocations, revocations.isRevoked(claims) { throw .revoked }
                return claims
            }
            let (claims, key) = try await verifyInFull(token)
            cache.store(token, claims: claims, now: now, keyValidUntil: key.validUntil, revision: revision)
            return claims
        }
        return try await verifyInFull(token).claims
    }

    func verifyInFull(_ token: String) async throws(TokenRejection) -> (claims: AccessTokenClaims, key: VerificationKey) {
        let jws = try CompactJWS(parsing: token)
        let header = jws.header
        guard let algorithm = SigningAlgorithm(rawValue: header.alg), policy.algorithms.contains(algorithm) else {
            throw .header("algorithm not allowed")
        }
        guard let typ = header.typ, Self.isAccessTokenType(typ) else { throw .header("typ must be at+jwt") }
        guard header.memberNames.isDisjoint(with: JOSEHeader.forbiddenMembers) else { throw .header("forbidden header member") }
        guard let kid = header.kid, !kid.isEmpty, kid.utf8.count <= Self.maxKeyIDLength else { throw .unknownKey }
        let key: VerificationKey?
        do {
            key = try await keys.verificationKey(kid: kid)
        } catch {
            throw .keysUnavailable
        }
        guard let key else { throw .unknownKey }
        guard key.algorithm == algorithm else { throw .header("algorithm does not match the key") }
        let valid = (try? key.jwtAlgorithm.verify(jws.signature, signs: jws.signingInput)) ?? false
        guard valid else { throw .badSignature }

        let claims: AccessTokenClaims
        do {
            claims = try JSONDecoder().decode(AccessTokenClaims.self, from: jws.payload)
        } catch {
            throw .claims("registered claims missing or of the wrong type")
        }
        try check(claims)
        if let revocations, revocations.isRevoked(claims) { throw .revoked }
        return (claims, key)
    }

    func check(_ claims: AccessTokenClaims) throws(TokenRejection) {
        let now = self.now()
        guard claims.issuer == policy.issuer else { throw .wrongIssuer }
        if let audiences = policy.audiences, audiences.isDisjoint(with: claims.audience) { throw .wrongAudience }
        guard claims.expiresAt.timeIntervalSince(now) > -policy.expiryLeeway else { throw .expired }
        if let notBefore = claims.notBefore, notBefore.timeIntervalSince(now) > policy.leeway { throw .notYetValid }
        guard claims.issuedAt.timeIntervalSince(now) <= policy.leeway else { throw .notYetValid }
        guard !claims.tokenID.isEmpty, !claims.subject.isEmpty, !claims.clientID.isEmpty else { throw .claims("empty jti, sub or client_id") }
    }

    /// RFC 9068 §4: `at+jwt`, or its full media type; media types compare case-insensitively.
    static func isAccessTokenType(_ typ: String) -> Bool {
        let lowered = typ.lowercased()
        return lowered == "at+jwt" || lowered == "application/at+jwt"
    }
}
