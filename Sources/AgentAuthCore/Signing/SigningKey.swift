public import Foundation

/// A token-signing key as stored: public JWK in the clear, private part sealed under the master key.
public struct SigningKey: Hashable, Sendable {
    public enum Status: String, Hashable, Sendable, Codable {
        /// Signs new tokens. Exactly one key is active.
        case active
        /// Signs nothing; still verifies until `publishedUntil`.
        case retired
    }

    public var kid: String
    public var algorithm: SigningAlgorithm
    /// The public JWK, as JSON (RFC 7517), with `kid`, `alg` and `use`.
    public var publicJWK: String
    /// The private key's raw bytes, AES-GCM sealed under the master key with `kid` as associated data.
    public var sealedPrivateKey: Data
    public var status: Status
    public var createdAt: Date
    public var retiredAt: Date?
    /// When a retired key leaves the JWKS: after the last token it signed has expired.
    public var publishedUntil: Date?

    public init(
        kid: String,
        algorithm: SigningAlgorithm,
        publicJWK: String,
        sealedPrivateKey: Data,
        status: Status,
        createdAt: Date,
        retiredAt: Date? = nil,
        publishedUntil: Date? = nil
    ) {
        self.kid = kid
        self.algorithm = algorithm
        self.publicJWK = publicJWK
        self.sealedPrivateKey = sealedPrivateKey
        self.status = status
        self.createdAt = createdAt
        self.retiredAt = retiredAt
        self.publishedUntil = publishedUntil
    }

    /// Whether the key belongs in the JWKS at `date`.
    public func isPublished(at date: Date) -> Bool {
        status == .active || (publishedUntil.map { $0 > date } ?? false)
    }
}
