public import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    public static let apiKey = Self("X-API-Key")!
    /// HTTP/1.0 caches' `no-cache`, sent with token responses (RFC 6749 §5.1).
    public static let pragma = Self("Pragma")!
}

extension HTTPFields {
    /// The one `X-API-Key` value; `.ambiguous` when the header is repeated.
    public var apiKeyCredential: HeaderCredential {
        let values = self[values: .apiKey]
        switch values.count {
        case 0: return .absent
        case 1: return .present(values[0])
        default: return .ambiguous
        }
    }

    /// The one `Authorization: Bearer` token (RFC 6750 §2.1, scheme case-insensitive);
    /// `.ambiguous` when repeated, `.malformed` for another scheme or an empty token.
    public var bearerCredential: HeaderCredential {
        let values = self[values: .authorization]
        switch values.count {
        case 0: return .absent
        case 1:
            // Byte-wise: `String.count` and `lowercased()` walk grapheme clusters, a measurable
            // share of a cached Bearer request.
            let value = values[0].utf8
            guard value.count > 7, zip(value.prefix(7), Self.bearerPrefix).allSatisfy(Self.matchesCaseInsensitively) else { return .malformed }
            let token = value.dropFirst(7)
            // b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
            guard token.allSatisfy(Self.isB64TokenByte) else { return .malformed }
            return .present(String(decoding: token, as: UTF8.self))
        default: return .ambiguous
        }
    }

    private static let bearerPrefix = Array("bearer ".utf8)

    /// `byte` equals the lowercase letter or space `expected`, ignoring ASCII case.
    private static func matchesCaseInsensitively(_ pair: (byte: UInt8, expected: UInt8)) -> Bool {
        pair.expected == UInt8(ascii: " ") ? pair.byte == pair.expected : pair.byte | 0x20 == pair.expected
    }

    private static func isB64TokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="): true
        default: false
        }
    }
}

/// What a request carries in one credential header.
public enum HeaderCredential: Equatable, Sendable {
    case absent
    case present(String)
    case ambiguous
    case malformed
}
