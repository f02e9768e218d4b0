import Foundation
public import Hummingbird

/// A strictly parsed `application/x-www-form-urlencoded` body (the OAuth endpoints' only format).
///
/// Hummingbird's `URLEncodedFormDecoder` decodes into `Codable` types and tolerates what
/// OAuth must refuse (RFC 6749 §3.1, §3.2: "parameters MUST NOT be included more than once";
/// SECURITY-CASES 9): repeated names, bad escapes, invalid UTF-8, NUL bytes. So the few lines
/// of parsing live here, each refusal a 400 `invalid_request`.
public struct FormBody: Sendable {
    public private(set) var values: [String: String]
    /// Values of the parameters that may repeat (RFC 8707 `resource`, RFC 8693 `audience`).
    private var repeated: [String: [String]] = [:]

    /// The most parameters one form may carry (DESIGN.md "Bad input").
    public static let maxParameters = 64
    /// The only parameters that may appear more than once; every other repetition is refused.
    public static let repeatable: Set<String> = ["resource", "audience"]

    /// The value of a single-valued parameter (for a repeatable one: its first value).
    public subscript(_ name: String) -> String? { values[name] }

    /// Every value of `name`, in order.
    public func values(of name: String) -> [String] {
        repeated[name] ?? values[name].map { [$0] } ?? []
    }

    /// Reads and parses the body of `request`, which must be a form.
    /// - Parameter lenient: parameters whose values may hold control characters other than NUL:
    ///   a token to introspect or revoke, which is then simply not an active token (RFC 7662
    ///   §2.2, RFC 7009 §2.2) instead of a malformed request.
    public static func read(from request: Request, context: some RequestContext, lenient: Set<String> = []) async throws -> FormBody {
        // Two Content-Type fields would be joined into one value ("…urlencoded, application/json")
        // and pass: a body has one media type.
        guard request.headers[values: .contentType].count == 1, isForm(contentType: request.headers[.contentType]) else {
            throw OAuthError.invalidRequest("the body must be application/x-www-form-urlencoded")
        }
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        return try FormBody(parsing: Array(buffer.readableBytesView), lenient: lenient)
    }

    /// Whether the media type (before any `;` parameter, spaces and tabs around it ignored) is
    /// `application/x-www-form-urlencoded`, in any ASCII case. Byte-wise: it runs on every
    /// token and introspection request, and `trimmingCharacters` goes through NSString. A value
    /// with a comma is refused: Content-Type is not a list, and a comma is what joining two
    /// fields leaves behind ("…urlencoded, application/json").
    public static func isForm(contentType: String?) -> Bool {
        guard let contentType, !contentType.utf8.contains(UInt8(ascii: ",")) else { return false }
        var mediaType = contentType.utf8.prefix { $0 != UInt8(ascii: ";") }
        while let first = mediaType.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { mediaType = mediaType.dropFirst() }
        while let last = mediaType.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { mediaType = mediaType.dropLast() }
        return mediaType.elementsEqual(formMediaType) { byte, expected in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 == expected : byte == expected
        }
    }

    static let formMediaType = Array("application/x-www-form-urlencoded".utf8)

    public init(parsing bytes: [UInt8], lenient: Set<String> = []) throws(OAuthError) {
        values = [:]
        guard !bytes.isEmpty else { return }
        let pairs = bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false)
        guard pairs.count <= Self.maxParameters else { throw .invalidRequest("too many form parameters (at most \(Self.maxParameters))") }
        // Empty sequences (`a=1&&b=2`, a trailing `&`) are skipped, as the WHATWG form rules do.
        for pair in pairs where !pair.isEmpty {
            let nameEnd = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
            let name = try Self.decode(pair[pair.startIndex..<nameEnd])
            let value = nameEnd == pair.endIndex ? "" : try Self.decode(pair[(nameEnd + 1)...], allowingControlCharacters: lenient.contains(name))
            guard !name.isEmpty else { throw .invalidRequest("form parameter without a name") }
            if values[name] != nil {
                guard Self.repeatable.contains(name) else { throw .invalidRequest("parameter \(Self.printable(name)) is repeated") }
                repeated[name, default: [values[name]!]].append(value)
            } else {
                values[name] = value
            }
        }
    }

    /// Percent-decoding with `+` as space; refuses bad escapes, invalid UTF-8, NUL and (unless
    /// allowed) other control characters.
    static func decode(_ bytes: ArraySlice<UInt8>, allowingControlCharacters: Bool = false) throws(OAuthError) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "+"):
                output.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard index + 2 < bytes.endIndex, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) else {
                    throw .invalidRequest("malformed percent-encoding in the form body")
                }
                output.append(high << 4 | low)
                index += 2
            default:
                output.append(byte)
            }
            index += 1
        }
        guard let string = String(validating: output, as: UTF8.self) else {
            throw .invalidRequest("the form body is not valid UTF-8")
        }
        guard !string.unicodeScalars.contains(where: { $0.value == 0 || (!allowingControlCharacters && ($0.value < 0x20 || $0.value == 0x7F)) })
        else {
            throw .invalidRequest("the form body contains control characters")
        }
        return string
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// A parameter name is echoed in errors only when it is short and harmless.
    private static func printable(_ name: String) -> String {
        name.count <= 40 && name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) ? "'\(name)'" : "(name withheld)"
    }
}
