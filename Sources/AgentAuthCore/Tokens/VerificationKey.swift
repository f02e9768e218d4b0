public import JWTKit

/// A public key a verifier trusts, chosen by `kid`; its algorithm is fixed by the key, never by the token.
public struct VerificationKey: Sendable {
    public let kid: String
    public let algorithm: SigningAlgorithm
    public let jwtAlgorithm: any JWTAlgorithm

    public init(kid: String, algorithm: SigningAlgorithm, jwtAlgorithm: any JWTAlgorithm) {
        self.kid = kid
        self.algorithm = algorithm
        self.jwtAlgorithm = jwtAlgorithm
    }
}

/// Where a verifier finds keys: the server's key ring, or a resource server's JWKS cache.
public protocol VerificationKeySource: Sendable {
    /// The key with this id, or `nil` when it is unknown (after whatever refresh the source allows).
    func verificationKey(kid: String) async throws -> VerificationKey?
}

extension SigningKeyMaterial {
    public var verificationKey: VerificationKey { VerificationKey(kid: kid, algorithm: algorithm, jwtAlgorithm: jwtAlgorithm) }
}
