import Crypto
public import Foundation

/// The 256-bit key that encrypts signing keys at rest (AES-GCM). It comes from
/// `AGENTAUTH_MASTER_KEY` (base64 of 32 bytes) or from the key file `init` writes; every node
/// of a deployment needs the same one.
public struct MasterKey: Sendable {
    let key: SymmetricKey

    public init(base64: String) throws(MasterKeyError) {
        guard let data = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32 else {
            throw .invalid
        }
        key = SymmetricKey(data: data)
    }

    public static func generate() -> (key: MasterKey, base64: String) {
        let key = SymmetricKey(size: .bits256)
        let base64 = key.withUnsafeBytes { Data($0).base64EncodedString() }
        return (MasterKey(key: key), base64)
    }

    init(key: SymmetricKey) {
        self.key = key
    }

    /// Encrypts `plaintext`, binding it to `context` (the key id) so a ciphertext can't be moved to another row.
    public func seal(_ plaintext: some DataProtocol, context: String) throws -> Data {
        guard let combined = try AES.GCM.seal(plaintext, using: key, authenticating: Data(context.utf8)).combined else {
            throw MasterKeyError.cannotDecrypt
        }
        return combined
    }

    public func open(_ ciphertext: Data, context: String) throws(MasterKeyError) -> Data {
        do {
            return try AES.GCM.open(AES.GCM.SealedBox(combined: ciphertext), using: key, authenticating: Data(context.utf8))
        } catch {
            throw .cannotDecrypt
        }
    }
}

public enum MasterKeyError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalid
    case cannotDecrypt
    /// The key opens none of the store's signing keys: it belongs to another deployment.
    case wrongKey

    public var description: String {
        switch self {
        case .invalid: "the master key must be the base64 encoding of exactly 32 bytes"
        case .cannotDecrypt: "a signing key cannot be decrypted with this master key (is it the deployment's master key?)"
        case .wrongKey: "this master key does not belong to this database (it cannot open its signing keys); nothing was changed"
        }
    }
}
