public import Foundation
public import JWTKit

/// A public key a verifier trusts, chosen by `kid`; its algorithm is fixed by the key, never by the token.
public struct VerificationKey: Sendable {
    public let kid: String
    public let algorithm: SigningAlgorithm
    public let jwtAlgorithm: any JWTAlgorithm
    /// When the source stops trusting the key (a retired key leaving the JWKS); `nil` while no
    /// end is known. A verifier keeps nothing it verified with the key past it.
    public let validUntil: Date?

    public init(kid: String, algorithm: SigningAlgorithm, jwtAlgorithm: any JWTAlgorithm, validUntil: Date? = nil) {
        self.kid = kid
        self.algorithm = algorithm
        self.jwtAlgorithm = jwtAlgorithm
        self.validUntil = validUntil
    }

    /// The same key, trusted until `date`.
    public func trusted(until date: Date?) -> VerificationKey {
        VerificationKey(kid: kid, algorithm: algorithm, jwtAlgorithm: jwtAlgorithm, validUntil: date)
    }
}

/// Where a verifier finds keys: the server's key ring, or a resource server's JWKS cache.
public protocol VerificationKeySource: Sendable {
    /// The key with this id, or `nil` when it is unknown (after whatever refresh the source allows).
    func verificationKey(kid: String) async throws -> VerificationKey?

    /// Moves on whenever the source drops a key it handed out, or learns when one will stop
    /// being trusted: what a verifier cached under an earlier value is verified in full again.
    /// Read on every request, so it must be cheap (an atomic load).
    var trustRevision: UInt64 { get }
}

extension VerificationKeySource {
    /// A source whose keys never go away.
    public var trustRevision: UInt64 { 0 }
}

extension SigningKeyMaterial {
    public var verificationKey: VerificationKey { VerificationKey(kid: kid, algorithm: algorithm, jwtAlgorithm: jwtAlgorithm) }
}
