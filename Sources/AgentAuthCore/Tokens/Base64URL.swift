public import Foundation

/// Strict unpadded base64url (RFC 7515 §2): only `A-Z a-z 0-9 - _`, no padding, no
/// whitespace, and no length that can't come from whole bytes. Foundation's decoder is
/// lenient about some of these, so candidates are checked first.
public enum Base64URL {
    public static func isStrict(_ segment: some Collection<UInt8>) -> Bool {
        guard segment.count % 4 != 1 else { return false }
        return segment.allSatisfy(isAlphabetByte)
    }

    /// `A-Z a-z 0-9 - _`.
    public static func isAlphabetByte(_ byte: UInt8) -> Bool {
        (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2D || byte == 0x5F
    }

    public static func decode(_ segment: some Collection<UInt8>) -> Data? {
        guard isStrict(segment) else { return nil }
        // Foundation decodes; the alphabet is mapped byte by byte (not through NSString, which
        // cost more than the decoding itself on the token paths).
        var base64: [UInt8] = []
        base64.reserveCapacity(segment.count + 3)
        for byte in segment { base64.append(byte == UInt8(ascii: "-") ? UInt8(ascii: "+") : byte == UInt8(ascii: "_") ? UInt8(ascii: "/") : byte) }
        while base64.count % 4 != 0 { base64.append(UInt8(ascii: "=")) }
        // Refuse non-canonical encodings (unused trailing bits set): one token, one spelling.
        guard let data = Data(base64Encoded: Data(base64)), encodedBytes(data).elementsEqual(segment) else { return nil }
        return data
    }

    public static func encode(_ data: some DataProtocol) -> String {
        String(decoding: encodedBytes(data), as: UTF8.self)
    }

    static func encodedBytes(_ data: some DataProtocol) -> [UInt8] {
        let base64 = Data(data).base64EncodedData()
        var encoded: [UInt8] = []
        encoded.reserveCapacity(base64.count)
        for byte in base64 where byte != UInt8(ascii: "=") {
            encoded.append(byte == UInt8(ascii: "+") ? UInt8(ascii: "-") : byte == UInt8(ascii: "/") ? UInt8(ascii: "_") : byte)
        }
        return encoded
    }
}
