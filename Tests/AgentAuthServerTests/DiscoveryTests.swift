import AgentAuthCore
import AgentAuthHTTP
import AgentAuthServer
import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import NIOCore
import Testing

/// Discovery, JWKS and rotation (SECURITY-CASES 46–47), and tokens checked by an independent
/// verifier: jwt-kit's own parser with the JWKS fetched over HTTP.
@Suite("Discovery, JWKS and rotation")
struct DiscoveryTests {
    @Test("RFC 8414 metadata lists exactly what is implemented")
    func metadata() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let response = try await api.request(.get, "/.well-known/oauth-authorization-server")
                #expect(response.status == .ok)
                let object = response.object
                #expect(object["issuer"] as? String == TestEnvironment.issuer)
                #expect(object["token_endpoint"] as? String == TestEnvironment.issuer + "/oauth/token")
                #expect(object["jwks_uri"] as? String == TestEnvironment.issuer + "/.well-known/jwks.json")
                #expect(object["introspection_endpoint"] as? String == TestEnvironment.issuer + "/oauth/introspect")
                #expect(object["revocation_endpoint"] as? String == TestEnvironment.issuer + "/oauth/revoke")
                #expect(object["grant_types_supported"] as? [String] == ["client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"])
                #expect(object["response_types_supported"] as? [String] == [])
                #expect(
                    Set(object["token_endpoint_auth_methods_supported"] as? [String] ?? []) == [
                        "client_secret_basic", "client_secret_post", "private_key_jwt",
                    ]
                )
                #expect((object["token_endpoint_auth_signing_alg_values_supported"] as? [String])?.contains("none") == false)
                #expect(object["authorization_endpoint"] == nil)
            }
        }
    }

    @Test("46: the JWKS holds public members only, with unique kids")
    func jwksPublicOnly() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                _ = try await api.admin(.post, "/admin/signing-keys/rotate", json: #"{"algorithm":"ES256"}"#)
                let response = try await api.request(.get, "/.well-known/jwks.json")
                #expect(response.status == .ok)
                let keys = try #require(response.object["keys"] as? [[String: Any]])
                #expect(keys.count == 2)
                let kids = keys.compactMap { $0["kid"] as? String }
                #expect(Set(kids).count == keys.count)
                for key in keys {
                    #expect(Set(key.keys).isDisjoint(with: ["d", "p", "q", "dp", "dq", "qi", "k"]))
                    #expect(key["use"] as? String == "sig")
                    #expect(["EdDSA", "ES256"].contains(key["alg"] as? String ?? ""))
                }
                #expect(!response.text.contains("\"d\""))
            }
        }
    }

    @Test(
        "47: a rotated-in key is published at once and signs after the activation delay; old tokens verify until expiry; the retired key leaves the JWKS afterwards"
    )
    func rotation() async throws {
        try await TestEnvironment.with { env in
            let clock = TestClock()
            try await env.test(clock: clock) { api, _ in
                let agent = try await api.createAgent()
                let (id, secret) = try await api.createClient(agent: agent, json: #"{"scope":"a","token_ttl":120}"#)
                let oldToken = try #require(
                    try await api.token(form: "grant_type=client_credentials", basic: (id, secret!)).object["access_token"] as? String
                )
                let oldKid = try Self.kid(of: oldToken)

                let rotated = try await api.admin(.post, "/admin/signing-keys/rotate")
                #expect(rotated.status == .created)
                let newKid = try #require(rotated.object["kid"] as? String)
                #expect(newKid != oldKid)
                #expect(rotated.object["status"] as? String == "pending")
                let handOver = clock.now().addingTimeInterval(5)
                #expect((rotated.object["activates_at"] as? String).flatMap { try? Date($0, strategy: .iso8601) } == handOver)
                #expect(Set(try await Self.jwksKids(api)) == [oldKid, newKid], "published at once")
                let pendingToken = try #require(
                    try await api.token(form: "grant_type=client_credentials", basic: (id, secret!)).object["access_token"] as? String
                )
                #expect(try Self.kid(of: pendingToken) == oldKid, "during the activation delay (5 s by default) the old key signs")
                let pending = try await Self.signingKeys(api)
                #expect(pending[newKid]?["status"] as? String == "pending")
                #expect(pending[oldKid]?["status"] as? String == "active", "the old key is active until it hands over")
                #expect((pending[oldKid]?["retired_at"] as? String).flatMap { try? Date($0, strategy: .iso8601) } == handOver)

                clock.advance(5)
                let newToken = try #require(
                    try await api.token(form: "grant_type=client_credentials", basic: (id, secret!)).object["access_token"] as? String
                )
                #expect(try Self.kid(of: newToken) == newKid)
                let handedOver = try await Self.signingKeys(api)
                #expect(handedOver[newKid]?["status"] as? String == "active" && handedOver[newKid]?["activates_at"] == nil)
                #expect(handedOver[oldKid]?["status"] as? String == "retired")
                #expect(try await api.introspect(oldToken, as: env.adminKey).object["active"] as? Bool == true, "old tokens still verify")
                #expect(Set(try await Self.jwksKids(api)) == [oldKid, newKid])

                // From the hand-over, the retired key stays published for the longest token lifetime
                // (120 s), the verifiers' leeway (30 s) and the key ring's refresh interval (30 s).
                clock.advance(170)
                #expect(try await Self.jwksKids(api).contains(oldKid) == true)
                clock.advance(11)
                #expect(try await Self.jwksKids(api) == [newKid], "the retired key leaves the JWKS after its last token expired")
                #expect(try await api.introspect(oldToken, as: env.adminKey).text == #"{"active":false}"#)
                let listed = try await api.admin(.get, "/admin/signing-keys")
                #expect((listed.object["keys"] as? [[String: Any]])?.count == 2, "both keys are listed for the admin")
            }
        }
    }

    @Test("tokens verify with jwt-kit's own parser against the JWKS fetched over HTTP")
    func independentVerification() async throws {
        try await TestEnvironment.with { env in
            try await env.test(.live) { api in
                let port = try #require(api.client.port)
                let agent = try await api.createAgent()
                let token = try await api.accessToken(agent: agent, scope: "billing:read")
                let request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/.well-known/jwks.json")
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                let body = try await response.body.collect(upTo: 1 << 20)
                let keys = JWTKeyCollection()
                try await keys.add(jwksJSON: String(buffer: body))
                let payload = try await keys.verify(token, as: IndependentPayload.self)
                #expect(payload.sub.value == agent)
                #expect(payload.iss.value == TestEnvironment.issuer)
                #expect(payload.aud.value == ["agentauth"])
                #expect(payload.scope == "billing:read")
                #expect(payload.client_id.hasPrefix("cli_"))
                let headerData = try #require(Base64URL.decode(token.split(separator: ".")[0].utf8))
                let header = try #require(JSONSerialization.jsonObject(with: headerData) as? [String: Any])
                #expect(header["typ"] as? String == "at+jwt")
                #expect(header["alg"] as? String == "EdDSA")
            }
        }
    }

    struct IndependentPayload: JWTPayload {
        let iss: IssuerClaim
        let sub: SubjectClaim
        let aud: AudienceClaim
        let exp: ExpirationClaim
        let iat: IssuedAtClaim
        let nbf: NotBeforeClaim
        let jti: IDClaim
        let scope: String
        let client_id: String

        func verify(using algorithm: some JWTAlgorithm) async throws {
            try exp.verifyNotExpired()
            try nbf.verifyNotBefore()
        }
    }

    static func kid(of token: String) throws -> String {
        let header = try JSONSerialization.jsonObject(with: Base64URL.decode(token.split(separator: ".")[0].utf8) ?? Data()) as? [String: Any]
        return header?["kid"] as? String ?? ""
    }

    /// `GET /admin/signing-keys`, by kid.
    static func signingKeys(_ api: TestAPI) async throws -> [String: [String: Any]] {
        let keys = try await api.admin(.get, "/admin/signing-keys").object["keys"] as? [[String: Any]] ?? []
        return Dictionary(uniqueKeysWithValues: keys.compactMap { key in (key["kid"] as? String).map { ($0, key) } })
    }

    static func jwksKids(_ api: TestAPI) async throws -> [String] {
        let response = try await api.request(.get, "/.well-known/jwks.json")
        return (response.object["keys"] as? [[String: Any]])?.compactMap { $0["kid"] as? String } ?? []
    }
}
