public import Foundation

/// A JWS in compact serialisation, split and decoded strictly (DESIGN.md "Access tokens",
/// SECURITY-CASES 20–21): exactly three segments of canonical unpadded base64url, header and
/// payload each one JSON object without duplicate members. Signature and claims are checked
/// by the caller.
public struct CompactJWS: Sendable {
    public let header: JOSEHeader
    public let payload: Data
    /// `BASE64URL(header) . BASE64URL(payload)`, the bytes the signature covers.
    public let signingInput: [UInt8]
    public let signature: Data

    /// The longest token accepted; anything longer is refused before any decoding.
    public static let maxLength = 8 * 1024

    public init(parsing token: String) throws(TokenRejection) {
        let bytes = Array(token.utf8)
        guard !bytes.isEmpty, bytes.count <= Self.maxLength else { throw .malformed("token length") }
        let segments = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard segments.count == 3 else { throw .malformed("a JWS has three segments") }
        guard let headerData = Base64URL.decode(segments[0]), let payload = Base64URL.decode(segments[1]),
            let signature = Base64URL.decode(segments[2]), !signature.isEmpty
        else {
            throw .malformed("segments must be non-empty canonical base64url")
        }
        guard StrictJSON.isStrictObject(headerData), StrictJSON.isStrictObject(payload) else {
            throw .malformed("header and payload must be JSON objects without duplicate members")
        }
        do {
            header = try JSONDecoder().decode(JOSEHeader.self, from: headerData)
        } catch {
            throw .malformed("header members of the wrong type")
        }
        self.payload = payload
        self.signature = signature
        signingInput = Array(bytes[..<(segments[0].count + 1 + segments[1].count)])
    }
}

/// The JOSE header members AgentAuth reads, plus the names of every member present.
public struct JOSEHeader: Decodable, Sendable {
    public let alg: String
    public let typ: String?
    public let kid: String?
    public let memberNames: Set<String>

    /// Members that would let a token choose its own key or change how it is processed
    /// (RFC 8725 §3.1, §3.10): never honoured, so a token carrying one is refused.
    public static let forbiddenMembers: Set<String> = ["jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256", "crit", "b64", "zip", "enc"]

    struct AnyKey: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        alg = try container.decode(String.self, forKey: AnyKey(stringValue: "alg"))
        typ = try container.decodeIfPresent(String.self, forKey: AnyKey(stringValue: "typ"))
        kid = try container.decodeIfPresent(String.self, forKey: AnyKey(stringValue: "kid"))
        memberNames = Set(container.allKeys.map(\.stringValue))
    }

    public init(alg: String, typ: String?, kid: String?) {
        self.alg = alg
        self.typ = typ
        self.kid = kid
        memberNames = Set(["alg"] + (typ == nil ? [] : ["typ"]) + (kid == nil ? [] : ["kid"]))
    }
}
