import AgentAuthCore
import Crypto
import Foundation
import JWTKit

/// Builds compact JWS strings from literal header and payload JSON, signed with a real key or
/// not at all: the raw material of the forged-token tests.
enum JWTForge {
    static func b64(_ text: String) -> String { Base64URL.encode(Data(text.utf8)) }

    /// `header.payload.signature`, the signature made by `key` over the first two segments.
    static func signed(header: String, payload: String, key: SigningKeyMaterial) throws -> String {
        let input = b64(header) + "." + b64(payload)
        return input + "." + Base64URL.encode(try key.jwtAlgorithm.sign(Array(input.utf8)))
    }

    static func header(_ key: SigningKeyMaterial, typ: String? = "at+jwt", extra: String = "") -> String {
        let typMember = typ.map { #","typ":"\#($0)""# } ?? ""
        return #"{"alg":"\#(key.algorithm.rawValue)","kid":"\#(key.kid)"\#(typMember)\#(extra)}"#
    }

    /// A payload whose claims are all valid now for `agent` at the server's own endpoints (the
    /// admin audience), with members overridable by `extra` (raw JSON members).
    static func payload(
        agent: String,
        scope: String = "admin",
        issuer: String = TestEnvironment.issuer,
        audience: String = #""\#(TestEnvironment.issuer)""#,
        now: Date = Date(),
        exp: String? = nil,
        nbf: String? = nil,
        iat: String? = nil,
        extra: String = ""
    ) -> String {
        let time = Int(now.timeIntervalSince1970)
        return """
            {"iss":"\(issuer)","sub":"\(agent)","client_id":"forge","aud":\(audience),"exp":\(exp ?? String(time + 600)),\
            "iat":\(iat ?? String(time)),"nbf":\(nbf ?? String(time)),"jti":"at_\(UUID().uuidString)","scope":"\(scope)"\(extra)}
            """
    }

    static func hmac(header: String, payload: String, secret: some DataProtocol) -> String {
        let input = b64(header) + "." + b64(payload)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: Data(secret)))
        return input + "." + Base64URL.encode(Data(mac))
    }
}
