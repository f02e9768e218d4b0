import Crypto
public import Foundation
public import JWTKit

/// A usable signing key: its id, algorithm, the jwt-kit algorithm object that signs (when the
/// private part is present) and verifies, and its public JWK.
public struct SigningKeyMaterial: Sendable {
    public let kid: String
    public let algorithm: SigningAlgorithm
    public let jwtAlgorithm: any JWTAlgorithm
    public let publicJWK: [String: String]

    /// A new key pair. The kid is the RFC 7638 JWK thumbprint of the public key.
    public static func generate(_ algorithm: SigningAlgorithm) async throws -> (material: SigningKeyMaterial, privateKey: Data) {
        switch algorithm {
        case .eddsa:
            let key = Curve25519.Signing.PrivateKey()
            return (try await make(algorithm, privateKey: key.rawRepresentation), key.rawRepresentation)
        case .es256:
            let key = P256.Signing.PrivateKey()
            return (try await make(algorithm, privateKey: key.rawRepresentation), key.rawRepresentation)
        }
    }

    /// Rebuilds a key from its raw private bytes.
    public static func make(_ algorithm: SigningAlgorithm, privateKey raw: Data) async throws -> SigningKeyMaterial {
        let collection = JWTKeyCollection()
        let members: [String: String]
        switch algorithm {
        case .eddsa:
            let key = try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
            members = ["kty": "OKP", "crv": "Ed25519", "x": Base64URL.encode(key.publicKey.rawRepresentation)]
            await collection.add(eddsa: EdDSA.PrivateKey(backing: key), kid: "k")
        case .es256:
            let key = try P256.Signing.PrivateKey(rawRepresentation: raw)
            let point = key.publicKey.x963Representation  // 0x04 || X || Y
            members = ["kty": "EC", "crv": "P-256", "x": Base64URL.encode(point[1...32]), "y": Base64URL.encode(point[33...64])]
            await collection.add(ecdsa: try ES256PrivateKey(backing: key), kid: "k")
        }
        let kid = thumbprint(members)
        var jwk = members
        jwk["kid"] = kid
        jwk["alg"] = algorithm.rawValue
        jwk["use"] = "sig"
        return SigningKeyMaterial(kid: kid, algorithm: algorithm, jwtAlgorithm: try await collection.getKey(for: "k"), publicJWK: jwk)
    }

    /// RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
    static func thumbprint(_ members: [String: String]) -> String {
        let canonical = "{" + members.keys.sorted().map { "\"\($0)\":\"\(members[$0]!)\"" }.joined(separator: ",") + "}"
        return Base64URL.encode(Data(SHA256.hash(data: Data(canonical.utf8))))
    }

    /// The public JWK as JSON text, keys sorted.
    public var publicJWKJSON: String {
        let data = try? JSONSerialization.data(withJSONObject: publicJWK, options: [.sortedKeys, .withoutEscapingSlashes])
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// A stored record for this key, its private part sealed under `masterKey`.
    public func record(privateKey: Data, masterKey: MasterKey, createdAt: Date) throws -> SigningKey {
        SigningKey(
            kid: kid,
            algorithm: algorithm,
            publicJWK: publicJWKJSON,
            sealedPrivateKey: try masterKey.seal(privateKey, context: kid),
            status: .active,
            createdAt: createdAt
        )
    }

    /// Opens a stored key with the master key.
    public static func open(_ key: SigningKey, masterKey: MasterKey) async throws -> SigningKeyMaterial {
        let material = try await make(key.algorithm, privateKey: try masterKey.open(key.sealedPrivateKey, context: key.kid))
        guard material.kid == key.kid else { throw MasterKeyError.cannotDecrypt }
        return material
    }
}
