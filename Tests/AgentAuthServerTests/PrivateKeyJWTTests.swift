import AgentAuthCore
import AgentAuthHTTP
import AgentAuthServer
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// RFC 7523 client authentication (SECURITY-CASES 10).
@Suite("private_key_jwt")
struct PrivateKeyJWTTests {
    struct ClientKey {
        let key = Curve25519.Signing.PrivateKey()
        let kid = "client-key-1"

        var jwks: String {
            #"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"\#(kid)","x":"\#(Base64URL.encode(key.publicKey.rawRepresentation))"}]}"#
        }

        func assertion(
            clientID: String,
            iss: String? = nil,
            sub: String? = nil,
            aud: String = TestEnvironment.issuer + "/oauth/token",
            audJSON: String? = nil,
            exp: Int = Int(Date().timeIntervalSince1970) + 120,
            jti: String? = UUID().uuidString,
            header: String? = nil
        ) throws -> String {
            let jtiMember = jti.map { #","jti":"\#($0)""# } ?? ""
            let audience = audJSON ?? #""\#(aud)""#
            let payload =
                #"{"iss":"\#(iss ?? clientID)","sub":"\#(sub ?? clientID)","aud":\#(audience),"exp":\#(exp),"iat":\#(Int(Date().timeIntervalSince1970))\#(jtiMember)}"#
            let input = JWTForge.b64(header ?? #"{"alg":"EdDSA","kid":"\#(kid)","typ":"JWT"}"#) + "." + JWTForge.b64(payload)
            return input + "." + Base64URL.encode(try key.signature(for: Data(input.utf8)))
        }
    }

    static func form(_ assertion: String) -> String {
        "grant_type=client_credentials&client_assertion_type=\(formEncoded(ClientCredentials.assertionType))&client_assertion=\(assertion)"
    }

    static func register(_ api: TestAPI, _ key: ClientKey) async throws -> String {
        let agent = try await api.createAgent()
        let (id, secret) = try await api.createClient(
            agent: agent,
            json: #"{"scope":"a b","token_endpoint_auth_method":"private_key_jwt","jwks":\#(key.jwks)}"#
        )
        #expect(secret == nil, "a private_key_jwt client has no secret")
        return id
    }

    @Test("a signed assertion gets a token; replaying it → invalid_client")
    func happyPathAndReplay() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let key = ClientKey()
                let id = try await Self.register(api, key)
                let assertion = try key.assertion(clientID: id)
                let first = try await api.token(form: Self.form(assertion))
                #expect(first.status == .ok, "\(first.text)")
                #expect(first.object["scope"] as? String == "a b")
                let replay = try await api.token(form: Self.form(assertion))
                #expect(replay.status == .unauthorized && replay.errorCode == "invalid_client")
                let issuerAudience = try await api.token(form: Self.form(try key.assertion(clientID: id, aud: TestEnvironment.issuer)))
                #expect(issuerAudience.status == .ok, "the issuer is an accepted audience too")
            }
        }
    }

    @Test("alg none or HS256, wrong iss/sub/aud, no jti, expired, another key → invalid_client")
    func forgedAssertions() async throws {
        try await TestEnvironment.with { env in
            try await env.test(clientFailureLimit: 100) { api in
                let key = ClientKey()
                let id = try await Self.register(api, key)
                let now = Int(Date().timeIntervalSince1970)
                let payload = #"{"iss":"\#(id)","sub":"\#(id)","aud":"\#(TestEnvironment.issuer)/oauth/token","exp":\#(now + 60),"jti":"x1"}"#
                let none = JWTForge.b64(#"{"alg":"none","typ":"JWT"}"#) + "." + JWTForge.b64(payload) + "."
                let noneWithSignature = JWTForge.b64(#"{"alg":"none"}"#) + "." + JWTForge.b64(payload) + ".c2ln"
                let hs256 = JWTForge.hmac(
                    header: #"{"alg":"HS256","kid":"\#(key.kid)"}"#,
                    payload: payload,
                    secret: key.key.publicKey.rawRepresentation
                )
                let candidates = [
                    none, noneWithSignature, hs256,
                    try key.assertion(clientID: id, iss: "someone-else"),
                    try key.assertion(clientID: id, sub: "someone-else"),
                    try key.assertion(clientID: id, aud: "https://elsewhere.example/token"),
                    try key.assertion(clientID: id, jti: nil),
                    try key.assertion(clientID: id, exp: now - 120),
                    try key.assertion(clientID: id, exp: now + 86_400 * 30),
                    try ClientKey().assertion(clientID: id),
                    try key.assertion(clientID: id, header: #"{"alg":"EdDSA","kid":"unknown-kid"}"#),
                    try key.assertion(clientID: id, header: #"{"alg":"EdDSA","kid":"\#(key.kid)","typ":"at+jwt"}"#),
                    try key.assertion(clientID: id, header: #"{"alg":"EdDSA","kid":"\#(key.kid)","jwk":{"kty":"OKP"}}"#),
                ]
                for assertion in candidates {
                    let response = try await api.token(form: Self.form(assertion))
                    #expect(response.status == .unauthorized, "\(assertion) → \(response.status)")
                    #expect(response.errorCode == "invalid_client")
                }
                #expect(try await api.token(form: Self.form(try key.assertion(clientID: id))).status == .ok, "the real client still works")
            }
        }
    }

    @Test("assertion together with a secret, or with a wrong assertion type → 400")
    func mixedMethods() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let key = ClientKey()
                let id = try await Self.register(api, key)
                let assertion = try key.assertion(clientID: id)
                let withSecret = try await api.token(form: Self.form(assertion) + "&client_secret=x")
                #expect(withSecret.status == .badRequest)
                let wrongType = try await api.token(form: "grant_type=client_credentials&client_assertion_type=urn:x&client_assertion=\(assertion)")
                #expect(wrongType.status == .badRequest)
                let otherID = try await api.token(form: Self.form(assertion) + "&client_id=someone-else")
                #expect(otherID.status == .unauthorized)
            }
        }
    }

    @Test("registration refuses private keys and unusable JWKS")
    func registration() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let bodies = [
                    #"{"scope":"a","token_endpoint_auth_method":"private_key_jwt"}"#,
                    #"{"scope":"a","token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[]}}"#,
                    #"{"scope":"a","token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[{"kty":"OKP","crv":"Ed25519","x":"abc","d":"secret"}]}}"#,
                    #"{"scope":"a","token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}}"#,
                    #"{"scope":"a","token_endpoint_auth_method":"private_key_jwt","jwks":"not an object"}"#,
                    #"{"scope":"a","jwks":{"keys":[{"kty":"OKP","crv":"Ed25519","x":"abc"}]}}"#,
                    #"{"scope":"a","token_endpoint_auth_method":"tls_client_auth"}"#,
                    #"{"scope":"a","token_ttl":5}"#,
                    #"{"scope":"a","grant_types":["password"]}"#,
                    #"{"scope":"a","client_id":"has/slash"}"#,
                    #"{"token_ttl":60}"#,
                ]
                for body in bodies {
                    let response = try await api.admin(.post, "/admin/agents/\(agent)/clients", json: body)
                    #expect(response.status == .badRequest, "\(body) → \(response.status)")
                }
                _ = try await api.createClient(agent: agent, json: #"{"scope":"a","client_id":"fixed-id"}"#)
                let taken = try await api.admin(.post, "/admin/agents/\(agent)/clients", json: #"{"scope":"a","client_id":"fixed-id"}"#)
                #expect(taken.status == .conflict)
            }
        }
    }
}
