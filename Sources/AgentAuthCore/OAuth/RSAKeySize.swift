import Foundation

/// The size of an RSA public key in a JWK, from its modulus `n` (base64url, big-endian, RFC 7518
/// §6.3.1.1). Keys under `minimumBits` are refused at registration and at verification
/// (RFC 7518 §3.3: 2048 bits or larger MUST be used for RS256/PS256).
public enum RSAKeySize {
    public static let minimumBits = 2048

    /// The modulus length in bits, or `nil` when `n` is not strict base64url.
    public static func bits(ofModulus n: String) -> Int? {
        guard Base64URL.isStrict(n.utf8), let bytes = Base64URL.decode(n.utf8) else { return nil }
        guard let first = bytes.firstIndex(where: { $0 != 0 }) else { return 0 }
        let significant = bytes.count - (first - bytes.startIndex)
        return (significant - 1) * 8 + (8 - bytes[first].leadingZeroBitCount)
    }

    public static func isStrongEnough(modulus n: String) -> Bool {
        (bits(ofModulus: n) ?? 0) >= minimumBits
    }
}
