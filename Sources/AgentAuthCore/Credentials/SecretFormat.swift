import Crypto
import Foundation

/// The shape shared by API keys (`sk-agent-…`) and client secrets (`cs-agent-…`):
/// prefix + 43 base62 digits of 32 random bytes + 6 base62 digits of the CRC-32 of all before.
///
/// The checksum lets a verifier refuse a mistyped or made-up secret without touching the store.
public struct SecretFormat: Sendable {
    public let prefix: String

    public static let apiKey = SecretFormat(prefix: "sk-agent-")
    public static let clientSecret = SecretFormat(prefix: "cs-agent-")

    static let bodyLength = 43
    static let checksumLength = 6

    public var length: Int { prefix.utf8.count + Self.bodyLength + Self.checksumLength }

    /// A new secret from 32 bytes of the system's secure random generator.
    public func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return make(randomBytes: bytes)
    }

    /// The secret for given random bytes; public for test vectors.
    public func make(randomBytes: [UInt8]) -> String {
        precondition(randomBytes.count == 32)
        return make(checksummedHead: prefix + Base62.encode(randomBytes, width: Self.bodyLength))
    }

    /// `head` (prefix and body) followed by its checksum; public for test vectors.
    public func make(checksummedHead head: String) -> String {
        head + Base62.encode(CRC32.checksum(head.utf8), width: Self.checksumLength)
    }

    /// Whether `candidate` has exactly this shape and a correct checksum. Pure: no store, no allocation
    /// proportional to anything but the candidate, constant work for every candidate of the right length.
    public func isWellFormed(_ candidate: String) -> Bool {
        let bytes = Array(candidate.utf8)
        let prefixBytes = Array(prefix.utf8)
        guard bytes.count == length, bytes.starts(with: prefixBytes) else { return false }
        let digits = bytes[prefixBytes.count...]
        guard digits.allSatisfy(Base62.isDigit) else { return false }
        let head = bytes[..<(bytes.count - Self.checksumLength)]
        let checksum = Base62.encode(CRC32.checksum(head), width: Self.checksumLength)
        return bytes[(bytes.count - Self.checksumLength)...].elementsEqual(checksum.utf8)
    }

    /// `sk-agent-ABCD…WXYZ`: the first and last four characters after the prefix, for listings.
    public func display(_ secret: String) -> String {
        let body = secret.dropFirst(prefix.count)
        return prefix + body.prefix(4) + "…" + body.suffix(4)
    }

    /// The stored form: SHA-256 of the whole secret, lowercase hex.
    public static func storageHash(_ secret: String) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var output: [UInt8] = []
        output.reserveCapacity(64)
        for byte in SHA256.hash(data: Data(secret.utf8)) {
            output.append(hex[Int(byte >> 4)])
            output.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }
}
