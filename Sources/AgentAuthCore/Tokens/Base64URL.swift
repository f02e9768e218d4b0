public import Foundation

/// Strict unpadded base64url (RFC 7515 §2): only `A-Z a-z 0-9 - _`, no padding, no
/// whitespace, and no length that can't come from whole bytes. Foundation's decoder is
/// lenient about some of these, so candidates are checked first.
public enum Base64URL {
    public static func isStrict(_ segment: some Collection<UInt8>) -> Bool {
        guard segment.count % 4 != 1 else { return false }
        return segment.allSatisfy { byte in
            (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2D || byte == 0x5F
        }
    }

    public static func decode(_ segment: some Collection<UInt8>) -> Data? {
        guard isStrict(segment) else { return nil }
        var base64 = String(decoding: segment, as: UTF8.self).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        // Refuse non-canonical encodings (unused trailing bits set): one token, one spelling.
        guard let data = Data(base64Encoded: base64), encode(data).utf8.elementsEqual(segment) else { return nil }
        return data
    }

    public static func encode(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
