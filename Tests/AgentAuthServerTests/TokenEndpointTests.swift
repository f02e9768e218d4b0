import AgentAuthCore
import AgentAuthHTTP
import AgentAuthServer
import AgentAuthTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// SECURITY-CASES 1–11: the token endpoint, each case as the real request.
@Suite("Token endpoint (SECURITY-CASES 1–11)")
struct TokenEndpointTests {
    static let clientBody = #"{"scope":"billing:read conversations:read","audience":["agentauth","https://billing.example"]}"#

    static func expectInvalidClient(_ response: TestResponse, _ comment: Comment? = nil) {
        #expect(response.status == .unauthorized, comment)
        #expect(response.errorCode == "invalid_client", comment)
        #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true, comment)
        #expect(response.headers[.cacheControl] == "no-store", comment)
    }

    @Test("1: valid Basic auth → 200 with access_token, Bearer, expires_in, scope; no-store; no refresh_token")
    func validBasic() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (id, secret) = try await api.createClient(agent: agent, json: Self.clientBody)
                let secretValue = try #require(secret)
                #expect(secretValue.hasPrefix("cs-agent-") && SecretFormat.clientSecret.isWellFormed(secretValue))
                let response = try await api.token(form: "grant_type=client_credentials", basic: (id, secretValue))
                #expect(response.status == .ok)
                #expect(response.headers[.cacheControl] == "no-store")
                #expect(response.headers[.pragma] == "no-cache")
                let object = response.object
                #expect(object["token_type"] as? String == "Bearer")
                #expect(object["expires_in"] as? Int == 1800)
                #expect(object["scope"] as? String == "billing:read conversations:read")
                #expect(object["refresh_token"] == nil)
                let token = try #require(object["access_token"] as? String)
                #expect(token.split(separator: ".").count == 3)
                // The token works at the server's introspection endpoint.
                let introspection = try await api.introspect(token, as: env.adminKey)
                #expect(introspection.object["active"] as? Bool == true)
                #expect(introspection.object["sub"] as? String == agent)
                #expect(introspection.object["client_id"] as? String == id)
            }
        }
    }

    @Test("1: client_secret_post works for a client registered for it")
    func validPost() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (id, secret) = try await api.createClient(agent: agent, json: #"{"scope":"a","token_endpoint_auth_method":"client_secret_post"}"#)
                let response = try await api.token(form: "grant_type=client_credentials&client_id=\(formEncoded(id))&client_secret=\(secret!)")
                #expect(response.status == .ok)
            }
        }
    }

    @Test("2: wrong secret, unknown client, empty secret → identical 401 invalid_client with a Basic challenge")
    func badCredentials() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (id, _) = try await api.createClient(agent: agent, json: Self.clientBody)
                let wrong = try await api.token(form: "grant_type=client_credentials", basic: (id, SecretFormat.clientSecret.generate()))
                let unknown = try await api.token(
                    form: "grant_type=client_credentials",
                    basic: ("no-such-client", SecretFormat.clientSecret.generate())
                )
                let empty = try await api.token(form: "grant_type=client_credentials", basic: (id, ""))
                for response in [wrong, unknown, empty] { Self.expectInvalidClient(response) }
                #expect(wrong.text == unknown.text)
                #expect(wrong.text == empty.text)
                let none = try await api.token(form: "grant_type=client_credentials")
                Self.expectInvalidClient(none)
            }
        }
    }

    @Test("3: Basic and client_secret together → 400; credentials in the query string → 400")
    func twoMethods() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (id, secret) = try await api.createClient(agent: agent, json: Self.clientBody)
                let both = try await api.token(form: "grant_type=client_credentials&client_secret=\(secret!)", basic: (id, secret!))
                #expect(both.status == .badRequest)
                #expect(both.errorCode == "invalid_request")
                let query = try await api.request(
                    .post,
                    "/oauth/token?client_id=\(formEncoded(id))&client_secret=\(secret!)",
                    form: "grant_type=client_credentials"
                )
                #expect(query.status == .badRequest)
                #expect(query.errorCode == "invalid_request")
                #expect(!query.text.contains(secret!))
            }
        }
    }

    @Test("4: Basic credentials not form-urlencoded → 400; correctly encoded +<&>* → works")
    func basicEncoding() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (id, secret) = try await api.createClient(agent: agent, json: #"{"client_id":"billing+<&>*agent","scope":"a"}"#)
                #expect(id == "billing+<&>*agent")
                let ok = try await api.token(form: "grant_type=client_credentials", basic: (id, secret!))
                #expect(ok.status == .ok, "\(ok.text)")
                for raw in ["bad%zzid:\(secret!)", "no-colon-at-all", "\(id):\(secret!)%"] {
                    let header = "Basic " + Data(raw.utf8).base64EncodedString()
                    let response = try await api.token(form: "grant_type=client_credentials", headers: [.authorization: header])
                    #expect(response.status == .badRequest, "\(raw)")
                }
                let notBase64 = try await api.token(form: "grant_type=client_credentials", headers: [.authorization: "Basic !!!"])
                #expect(notBase64.status == .badRequest)
                // Unencoded "+" decodes to a space: a different id, so the client is not found.
                let unencoded = "Basic " + Data("\(id):\(secret!)".utf8).base64EncodedString()
                Self.expectInvalidClient(try await api.token(form: "grant_type=client_credentials", headers: [.authorization: unencoded]))
            }
        }
    }

    @Test("5: a basic client posting its secret, or a post client using Basic → invalid_client")
    func methodMismatch() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (basicID, basicSecret) = try await api.createClient(agent: agent, json: #"{"scope":"a"}"#)
                Self.expectInvalidClient(
                    try await api.token(form: "grant_type=client_credentials&client_id=\(basicID)&client_secret=\(basicSecret!)")
                )
                let (postID, postSecret) = try await api.createClient(
                    agent: agent,
                    json: #"{"scope":"a","token_endpoint_auth_method":"client_secret_post"}"#
                )
                Self.expectInvalidClient(try await api.token(form: "grant_type=client_credentials", basic: (postID, postSecret!)))
            }
        }
    }

    @Test("6: missing grant_type → invalid_request; unknown → unsupported_grant_type; not allowed → unauthorized_client")
    func grantTypes() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (id, secret) = try await api.createClient(agent: agent, json: #"{"scope":"a"}"#)
                let missing = try await api.token(form: "scope=a", basic: (id, secret!))
                #expect(missing.status == .badRequest && missing.errorCode == "invalid_request")
                let unknown = try await api.token(form: "grant_type=password&username=u&password=p", basic: (id, secret!))
                #expect(unknown.status == .badRequest && unknown.errorCode == "unsupported_grant_type")
                let (limitedID, limitedSecret) = try await api.createClient(
                    agent: agent,
                    json: #"{"scope":"a","grant_types":["urn:ietf:params:oauth:grant-type:token-exchange"]}"#
                )
                let refused = try await api.token(form: "grant_type=client_credentials", basic: (limitedID, limitedSecret!))
                #expect(refused.status == .badRequest && refused.errorCode == "unauthorized_client")
            }
        }
    }

    @Test("7: scopes are narrowed exactly and case-sensitively; none left → invalid_scope")
    func scopeNarrowing() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (id, secret) = try await api.createClient(agent: agent, json: Self.clientBody)
                let narrowed = try await api.token(
                    form: "grant_type=client_credentials&scope=billing:read+admin+Conversations:read",
                    basic: (id, secret!)
                )
                #expect(narrowed.status == .ok)
                #expect(narrowed.object["scope"] as? String == "billing:read")
                let none = try await api.token(form: "grant_type=client_credentials&scope=admin+BILLING:READ", basic: (id, secret!))
                #expect(none.status == .badRequest && none.errorCode == "invalid_scope")
                let malformed = try await api.token(form: "grant_type=client_credentials&scope=a%22b", basic: (id, secret!))
                #expect(malformed.status == .badRequest && malformed.errorCode == "invalid_scope")
            }
        }
    }

    @Test("8: audience or resource not allowed → invalid_target; allowed ones become aud")
    func audiences() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (id, secret) = try await api.createClient(agent: agent, json: Self.clientBody)
                for form in [
                    "audience=https://evil.example", "resource=https://evil.example", "resource=not-a-uri", "resource=https://billing.example%23frag",
                ] {
                    let response = try await api.token(form: "grant_type=client_credentials&\(form)", basic: (id, secret!))
                    #expect(response.status == .badRequest && response.errorCode == "invalid_target", "\(form)")
                }
                let ok = try await api.token(form: "grant_type=client_credentials&resource=https://billing.example", basic: (id, secret!))
                #expect(ok.status == .ok)
                let token = try #require(ok.object["access_token"] as? String)
                let claims =
                    try JSONSerialization.jsonObject(with: try #require(Base64URL.decode(token.split(separator: ".")[1].utf8))) as? [String: Any]
                #expect(claims?["aud"] as? String == "https://billing.example")
                let plain = try await api.token(form: "grant_type=client_credentials", basic: (id, secret!))
                let plainClaims =
                    try JSONSerialization.jsonObject(
                        with: try #require(Base64URL.decode((plain.object["access_token"] as! String).split(separator: ".")[1].utf8))
                    ) as? [String: Any]
                #expect(plainClaims?["aud"] as? String == "agentauth", "no audience requested → the client's first")
            }
        }
    }

    @Test(
        "9: repeated parameters, GET, JSON or multipart bodies, bad escapes, invalid UTF-8, NUL → 400 (GET 405)",
        arguments: [
            ("grant_type=client_credentials&grant_type=client_credentials", "application/x-www-form-urlencoded"),
            (#"{"grant_type":"client_credentials"}"#, "application/json"),
            ("--x\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n--x--", "multipart/form-data; boundary=x"),
            ("grant_type=client_credentials&scope=%zz", "application/x-www-form-urlencoded"),
            ("grant_type=client_credentials&scope=%C3%28", "application/x-www-form-urlencoded"),
            ("grant_type=client_credentials%00", "application/x-www-form-urlencoded"),
        ]
    )
    func malformedRequests(_ body: String, _ contentType: String) async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (id, secret) = try await api.createClient(agent: agent, json: #"{"scope":"a"}"#)
                let basic = "Basic " + Data("\(id):\(secret!)".utf8).base64EncodedString()
                let response = try await api.request(.post, "/oauth/token", headers: [.contentType: contentType, .authorization: basic], body: body)
                #expect(response.status == .badRequest)
                #expect(response.errorCode == "invalid_request")
                let get = try await api.request(.get, "/oauth/token?grant_type=client_credentials", headers: [.authorization: basic])
                #expect(get.status == .methodNotAllowed)
                #expect(get.headers[.allow] == "POST")
            }
        }
    }

    @Test("a disabled agent's clients get invalid_client")
    func disabledAgent() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (id, secret) = try await api.createClient(agent: agent, json: #"{"scope":"a"}"#)
                _ = try await api.admin(.post, "/admin/agents/\(agent)/disable")
                Self.expectInvalidClient(try await api.token(form: "grant_type=client_credentials", basic: (id, secret!)))
            }
        }
    }

    @Test("secret rotation: the old secret works during the grace only")
    func secretRotation() async throws {
        try await TestEnvironment.with { env in
            let clock = TestClock()
            try await env.test(clock: clock) { api, _ in
                let agent = try await api.createAgent()
                let (id, old) = try await api.createClient(agent: agent, json: #"{"scope":"a"}"#)
                let rotated = try await api.admin(.post, "/admin/clients/\(formEncoded(id))/rotate-secret", json: #"{"grace_seconds":1}"#)
                #expect(rotated.status == .created)
                let new = try #require(rotated.object["client_secret"] as? String)
                #expect(try await api.token(form: "grant_type=client_credentials", basic: (id, old!)).status == .ok)
                #expect(try await api.token(form: "grant_type=client_credentials", basic: (id, new)).status == .ok)
                clock.advance(2)
                Self.expectInvalidClient(try await api.token(form: "grant_type=client_credentials", basic: (id, old!)))
                #expect(try await api.token(form: "grant_type=client_credentials", basic: (id, new)).status == .ok)
                let listing = try await api.admin(.get, "/admin/agents/\(agent)/clients")
                #expect(!listing.text.contains(new) && !listing.text.contains(old!), "secrets are shown once")
            }
        }
    }

    @Test("11: repeated failures → 429 with Retry-After; the legitimate client still gets tokens from its own address")
    func bruteForce() async throws {
        try await TestEnvironment.with { env in
            try await env.test(.live, clientFailureLimit: 5) { api in
                let port = try #require(api.client.port)
                let agent = try await api.createAgent()
                let (id, secret) = try await api.createClient(agent: agent, json: #"{"scope":"a"}"#)
                let wrong = "Basic " + Data("\(id):\(SecretFormat.clientSecret.generate())".utf8).base64EncodedString()
                let right = "Basic " + Data("\(id):\(secret!)".utf8).base64EncodedString()
                var statuses: [Int] = []
                for _ in 0..<7 {
                    let response = try await RawHTTP.post(
                        port: port,
                        path: "/oauth/token",
                        headerLines: ["Authorization: \(wrong)"],
                        form: "grant_type=client_credentials",
                        from: "127.0.0.2"
                    )
                    statuses.append(response.status)
                }
                #expect(statuses.prefix(5).allSatisfy { $0 == 401 })
                #expect(statuses.suffix(2).allSatisfy { $0 == 429 })
                let blocked = try await RawHTTP.post(
                    port: port,
                    path: "/oauth/token",
                    headerLines: ["Authorization: \(wrong)"],
                    form: "grant_type=client_credentials",
                    from: "127.0.0.2"
                )
                #expect(blocked.status == 429, "further failures stay limited")
                #expect(blocked.headers["retry-after"].flatMap { Int($0) }.map { $0 > 0 && $0 <= 60 } == true)
                let sameAddress = try await RawHTTP.post(
                    port: port,
                    path: "/oauth/token",
                    headerLines: ["Authorization: \(right)"],
                    form: "grant_type=client_credentials",
                    from: "127.0.0.2"
                )
                #expect(sameAddress.status == 200, "correct credentials are never locked out, even from the attacking address")
                let legitimate = try await RawHTTP.post(
                    port: port,
                    path: "/oauth/token",
                    headerLines: ["Authorization: \(right)"],
                    form: "grant_type=client_credentials",
                    from: "127.0.0.3"
                )
                #expect(legitimate.status == 200, "the client from its own address is unaffected")
            }
        }
    }
}
