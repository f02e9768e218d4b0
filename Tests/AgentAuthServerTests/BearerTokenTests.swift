import AgentAuthCore
import AgentAuthHTTP
import AgentAuthServer
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// SECURITY-CASES 12–28 against the auth server's own Bearer verification (admin API and
/// introspection). Forged tokens are signed with the server's real key where the attack needs a
/// valid signature, so that only the checked property is wrong.
@Suite("Bearer token attacks (SECURITY-CASES 12–28)")
struct BearerTokenTests {
    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    static func expectRefused(_ response: TestResponse, _ comment: Comment? = nil) {
        #expect(response.status == .unauthorized, comment)
        #expect(response.errorCode == "invalid_token", comment)
        #expect(response.headers[.wwwAuthenticate]?.hasPrefix(#"Bearer error="invalid_token""#) == true, comment)
    }

    @Test("a valid admin token works on the admin API; 26: a token without the scope → 403 insufficient_scope")
    func validAndScope() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let adminToken = try await api.serverToken(agent: env.adminAgentID, scope: "admin")
                let ok = try await api.request(.get, "/admin/agents", headers: Self.bearer(adminToken))
                #expect(ok.status == .ok)
                let agent = try await api.createAgent()
                let readerToken = try await api.serverToken(agent: agent, scope: "conversations:read")
                let forbidden = try await api.request(.get, "/admin/agents", headers: Self.bearer(readerToken))
                #expect(forbidden.status == .forbidden)
                #expect(forbidden.headers[.wwwAuthenticate] == #"Bearer error="insufficient_scope", scope="admin""#)
            }
        }
    }

    @Test("12: no header → bare challenge; empty token or bad characters → 401")
    func missingAndEmpty() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let none = try await api.request(.get, "/admin/agents")
                #expect(none.status == .unauthorized)
                #expect(none.headers[.wwwAuthenticate] == "Bearer")
                for value in ["Bearer", "Bearer ", "Bearer a b", "Bearer <script>", "Bearer \u{00e9}t\u{00e9}", "Token abc"] {
                    let response = try await api.request(.get, "/admin/agents", headers: [.authorization: value])
                    #expect(response.status == .unauthorized || response.status == .badRequest, "\(value)")
                }
            }
        }
    }

    @Test("13–22: forged headers, signatures and serialisations → 401")
    func forgedTokens() async throws {
        try await TestEnvironment.with { env in
            let key = try await env.activeSigningKey()
            let payload = JWTForge.payload(agent: env.adminAgentID)
            let valid = try JWTForge.signed(header: JWTForge.header(key), payload: payload, key: key)
            let segments = valid.split(separator: ".").map(String.init)
            let publicJWK = key.publicJWKJSON
            let x = try #require(key.publicJWK["x"])
            let rawPublic = try #require(Base64URL.decode(x.utf8))
            let pem = "-----BEGIN PUBLIC KEY-----\n" + rawPublic.base64EncodedString() + "\n-----END PUBLIC KEY-----\n"
            let attackerKey = try await SigningKeyMaterial.generate(.eddsa).material
            let attackerJWK = attackerKey.publicJWKJSON
            var forged: [(String, String)] = [
                ("13 signature removed", segments[0] + "." + segments[1] + "."),
                ("13 signature truncated", segments[0] + "." + segments[1] + "." + segments[2].dropLast(4)),
                ("13 signature of another token", segments[0] + "." + JWTForge.b64(JWTForge.payload(agent: "agt_other")) + "." + segments[2]),
            ]
            for alg in ["none", "None", "NONE", "nOnE"] {
                forged.append(
                    ("14 alg \(alg)", JWTForge.b64(#"{"alg":"\#(alg)","typ":"at+jwt","kid":"\#(key.kid)"}"#) + "." + JWTForge.b64(payload) + ".")
                )
                forged.append(
                    (
                        "14 alg \(alg) signed",
                        JWTForge.b64(#"{"alg":"\#(alg)","typ":"at+jwt","kid":"\#(key.kid)"}"#) + "." + JWTForge.b64(payload) + "." + segments[2]
                    )
                )
            }
            for (name, secret) in [("JWK", Data(publicJWK.utf8)), ("PEM", Data(pem.utf8)), ("raw", rawPublic)] {
                let header = #"{"alg":"HS256","typ":"at+jwt","kid":"\#(key.kid)"}"#
                forged.append(("15 HS256 with the public key as \(name)", JWTForge.hmac(header: header, payload: payload, secret: secret)))
            }
            for member in [
                #""jwk":\#(attackerJWK)"#, #""jku":"http://127.0.0.1:9/jwks.json""#, #""x5u":"http://127.0.0.1:9/cert.pem""#, #""x5c":["MIIB"]"#,
            ] {
                let header = #"{"alg":"EdDSA","typ":"at+jwt","kid":"\#(attackerKey.kid)",\#(member)}"#
                forged.append(("16 \(member.prefix(6))", try JWTForge.signed(header: header, payload: payload, key: attackerKey)))
                let ownKid = #"{"alg":"EdDSA","typ":"at+jwt","kid":"\#(key.kid)",\#(member)}"#
                forged.append(("16 \(member.prefix(6)) with our kid", try JWTForge.signed(header: ownKid, payload: payload, key: key)))
            }
            for kid in ["../../dev/null", "' OR 1=1 --", "|sleep 5", "", "unknown", String(repeating: "k", count: 5000)] {
                let header = #"{"alg":"EdDSA","typ":"at+jwt","kid":"\#(kid)"}"#
                forged.append(("17 kid \(kid.prefix(20))", try JWTForge.signed(header: header, payload: payload, key: key)))
            }
            forged.append(("17 no kid", try JWTForge.signed(header: #"{"alg":"EdDSA","typ":"at+jwt"}"#, payload: payload, key: key)))
            forged.append(("18 crit", try JWTForge.signed(header: JWTForge.header(key, extra: #","crit":["exp"]"#), payload: payload, key: key)))
            forged.append(
                (
                    "18 b64 false",
                    try JWTForge.signed(header: JWTForge.header(key, extra: #","b64":false,"crit":["b64"]"#), payload: payload, key: key)
                )
            )
            forged.append(("19 no typ", try JWTForge.signed(header: JWTForge.header(key, typ: nil), payload: payload, key: key)))
            forged.append(("19 typ JWT", try JWTForge.signed(header: JWTForge.header(key, typ: "JWT"), payload: payload, key: key)))
            forged.append(("19 typ dpop", try JWTForge.signed(header: JWTForge.header(key, typ: "dpop+jwt"), payload: payload, key: key)))
            forged.append(("20 five parts", valid + ".e30.e30"))
            forged.append(("20 two parts", segments[0] + "." + segments[1]))
            forged.append(("20 four parts", valid + ".e30"))
            forged.append(("20 padding", valid + "=="))
            forged.append(("20 padded header", segments[0] + "=." + segments[1] + "." + segments[2]))
            forged.append(("20 standard base64", valid.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + "+/"))
            forged.append(("20 whitespace", segments[0] + ". " + segments[1] + "." + segments[2]))
            let json = #"{"payload":"\#(segments[1])","protected":"\#(segments[0])","signature":"\#(segments[2])"}"#
            forged.append(("20 JSON serialisation", json))
            forged.append(("20 BOM", try JWTForge.signed(header: "\u{FEFF}" + JWTForge.header(key), payload: payload, key: key)))
            forged.append(
                (
                    "21 duplicate header member",
                    try JWTForge.signed(header: JWTForge.header(key, extra: #","alg":"none""#), payload: payload, key: key)
                )
            )
            forged.append(
                (
                    "21 duplicate claim",
                    try JWTForge.signed(
                        header: JWTForge.header(key),
                        payload: JWTForge.payload(agent: env.adminAgentID, extra: #","scope":"x""#),
                        key: key
                    )
                )
            )
            forged.append(
                (
                    "21 escaped duplicate",
                    try JWTForge.signed(
                        header: JWTForge.header(key),
                        payload: JWTForge.payload(agent: env.adminAgentID, extra: #","\u0073cope":"x""#),
                        key: key
                    )
                )
            )

            let cases = forged
            try await env.test { api in
                #expect(try await api.request(.get, "/admin/agents", headers: Self.bearer(valid)).status == .ok, "the control token is valid")
                for (name, token) in cases {
                    let response = try await api.request(.get, "/admin/agents", headers: Self.bearer(token))
                    #expect(
                        response.status == .unauthorized || response.status.code == 431 || response.status == .badRequest,
                        "\(name) → \(response.status)"
                    )
                    #expect(response.status != .ok, "\(name)")
                    let introspection = try await api.introspect(token, as: env.adminKey)
                    #expect(introspection.text == #"{"active":false}"#, "\(name) introspected")
                }
                #expect(
                    try await api.request(.get, "/admin/agents", headers: Self.bearer(valid)).status == .ok,
                    "28: forged tokens don't break valid ones"
                )
            }
        }
    }

    @Test("22: ES256 with r = s = 0 → 401")
    func ecdsaZeroSignature() async throws {
        try await TestEnvironment.with { env in
            // No activation delay: the rotated-in ES256 key signs at once, and is the one to forge with.
            try await env.test(activationDelay: .zero) { api in
                let rotated = try await api.admin(.post, "/admin/signing-keys/rotate", json: #"{"algorithm":"ES256"}"#)
                #expect(rotated.status == .created)
                #expect(rotated.object["algorithm"] as? String == "ES256")
                let key = try await env.activeSigningKey()
                #expect(key.algorithm == .es256)
                let payload = JWTForge.payload(agent: env.adminAgentID)
                let valid = try JWTForge.signed(header: JWTForge.header(key), payload: payload, key: key)
                #expect(try await api.request(.get, "/admin/agents", headers: Self.bearer(valid)).status == .ok, "ES256 tokens verify")
                let zero = JWTForge.b64(JWTForge.header(key)) + "." + JWTForge.b64(payload) + "." + Base64URL.encode(Data(count: 64))
                Self.expectRefused(try await api.request(.get, "/admin/agents", headers: Self.bearer(zero)))
                let der =
                    JWTForge.b64(JWTForge.header(key)) + "." + JWTForge.b64(payload) + "."
                    + Base64URL.encode(Data([0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00]))
                Self.expectRefused(try await api.request(.get, "/admin/agents", headers: Self.bearer(der)))
                // The EdDSA header on an ES256 key (algorithm confusion between our own keys).
                let confused = try JWTForge.signed(header: #"{"alg":"EdDSA","typ":"at+jwt","kid":"\#(key.kid)"}"#, payload: payload, key: key)
                Self.expectRefused(try await api.request(.get, "/admin/agents", headers: Self.bearer(confused)))
            }
        }
    }

    @Test("23: times beyond the leeway → 401; within the 30 s leeway → OK")
    func times() async throws {
        try await TestEnvironment.with { env in
            let key = try await env.activeSigningKey()
            let now = Int(Date().timeIntervalSince1970)
            func token(exp: String? = nil, nbf: String? = nil, iat: String? = nil, dropExp: Bool = false) throws -> String {
                var payload = JWTForge.payload(agent: env.adminAgentID, exp: exp, nbf: nbf, iat: iat)
                if dropExp { payload = payload.replacingOccurrences(of: #""exp":\#(now + 600),"#, with: "") }
                return try JWTForge.signed(header: JWTForge.header(key), payload: payload, key: key)
            }
            let refused = [
                try token(exp: String(now - 40)), try token(dropExp: true), try token(nbf: String(now + 60)), try token(iat: String(now + 3600)),
                try token(exp: String(now - 100), iat: String(now - 200)),
            ]
            let accepted = [
                try token(exp: String(now - 10), iat: String(now - 100)), try token(nbf: String(now + 10)), try token(iat: String(now + 10)),
            ]
            try await env.test { api in
                for token in refused { Self.expectRefused(try await api.request(.get, "/admin/agents", headers: Self.bearer(token))) }
                for token in accepted { #expect(try await api.request(.get, "/admin/agents", headers: Self.bearer(token)).status == .ok) }
            }
        }
    }

    @Test("24: claims of the wrong JSON type → 401")
    func claimTypes() async throws {
        try await TestEnvironment.with { env in
            let key = try await env.activeSigningKey()
            var tokens: [String] = []
            for value in ["null", "true", #""9999999999""#, "1e400", "99999999999999999999", "[1]", "{}"] {
                tokens.append(
                    try JWTForge.signed(header: JWTForge.header(key), payload: JWTForge.payload(agent: env.adminAgentID, exp: value), key: key)
                )
                tokens.append(
                    try JWTForge.signed(header: JWTForge.header(key), payload: JWTForge.payload(agent: env.adminAgentID, nbf: value), key: key)
                )
            }
            for audience in ["null", "true", "42", "[]", "[42]", #"{"a":"agentauth"}"#] {
                tokens.append(
                    try JWTForge.signed(
                        header: JWTForge.header(key),
                        payload: JWTForge.payload(agent: env.adminAgentID, audience: audience),
                        key: key
                    )
                )
            }
            let base = JWTForge.payload(agent: env.adminAgentID)
            for scope in ["null", "true", #"["admin"]"#, "42"] {
                let payload = base.replacingOccurrences(of: #""scope":"admin""#, with: #""scope":\#(scope)"#)
                tokens.append(try JWTForge.signed(header: JWTForge.header(key), payload: payload, key: key))
            }
            tokens.append(
                try JWTForge.signed(
                    header: JWTForge.header(key),
                    payload: base.replacingOccurrences(of: #""sub":"\#(env.adminAgentID)""#, with: #""sub":42"#),
                    key: key
                )
            )
            tokens.append(try JWTForge.signed(header: #"{"alg":"EdDSA","typ":"at+jwt","kid":42}"#, payload: base, key: key))
            tokens.append(try JWTForge.signed(header: JWTForge.header(key), payload: "[1,2,3]", key: key))
            let deep = String(repeating: #"{"a":"#, count: 200) + "1" + String(repeating: "}", count: 200)
            tokens.append(try JWTForge.signed(header: JWTForge.header(key), payload: base.dropLast() + #","x":\#(deep)}"#, key: key))
            let cases = tokens
            try await env.test { api in
                for token in cases { Self.expectRefused(try await api.request(.get, "/admin/agents", headers: Self.bearer(token))) }
            }
        }
    }

    @Test("25: wrong issuer (trailing slash, case) or audience → 401")
    func issuerAndAudience() async throws {
        try await TestEnvironment.with { env in
            let key = try await env.activeSigningKey()
            let payloads = [
                JWTForge.payload(agent: env.adminAgentID, issuer: TestEnvironment.issuer + "/"),
                JWTForge.payload(agent: env.adminAgentID, issuer: TestEnvironment.issuer.uppercased()),
                JWTForge.payload(agent: env.adminAgentID, issuer: "https://evil.example"),
                JWTForge.payload(agent: env.adminAgentID, audience: #""AgentAuth""#),
                JWTForge.payload(agent: env.adminAgentID, audience: #"["other","https://x"]"#),
            ]
            try await env.test { api in
                for payload in payloads {
                    Self.expectRefused(
                        try await api.request(
                            .get,
                            "/admin/agents",
                            headers: Self.bearer(try JWTForge.signed(header: JWTForge.header(key), payload: payload, key: key))
                        )
                    )
                }
                let arrayAudience = try JWTForge.signed(
                    header: JWTForge.header(key),
                    payload: JWTForge.payload(agent: env.adminAgentID, audience: #"["other","\#(TestEnvironment.issuer)"]"#),
                    key: key
                )
                #expect(
                    try await api.request(.get, "/admin/agents", headers: Self.bearer(arrayAudience)).status == .ok,
                    "an aud array containing ours is accepted"
                )
            }
        }
    }

    @Test("27: a token of a disabled agent → 401, and it stays dead after re-enabling")
    func disabledAgent() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                _ = try await api.createKey(agent: agent, scopes: ["x"])
                let token = try await api.accessToken(agent: agent, scope: "a")
                #expect(try await api.introspect(token, as: env.adminKey).object["active"] as? Bool == true)
                _ = try await api.admin(.post, "/admin/agents/\(agent)/disable")
                #expect(try await api.introspect(token, as: env.adminKey).text == #"{"active":false}"#)
                _ = try await api.admin(.post, "/admin/agents/\(agent)/enable")
                #expect(try await api.introspect(token, as: env.adminKey).text == #"{"active":false}"#, "enable does not resurrect old tokens")
                try await Task.sleep(for: .milliseconds(1100))
                let fresh = try await api.accessToken(agent: agent, scope: "a")
                #expect(try await api.introspect(fresh, as: env.adminKey).object["active"] as? Bool == true)
            }
        }
    }

    @Test("35: an access token in X-API-Key → 401")
    func tokenAsAPIKey() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let token = try await api.accessToken(agent: env.adminAgentID, scope: "admin")
                APIKeySecurityTests.expectRefused(try await api.request(.get, "/admin/agents", key: token))
            }
        }
    }
}
