import AgentAuthCore
import AgentAuthHTTP
import AgentAuthServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Introspection (RFC 7662)")
struct IntrospectionTests {
    @Test("36: introspection without credentials → 401")
    func needsAuthentication() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let response = try await api.request(.post, "/oauth/introspect", form: "token=\(env.adminKey)")
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
            }
        }
    }

    @Test("an active key: active, scope, sub, token_type, no-store")
    func activeKey() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (id, key) = try await api.createKey(agent: agent, scopes: ["introspect", "billing:read"], extra: #","expires_in":60"#)
                for caller in [key, env.adminKey] {
                    let response = try await api.introspect(key, as: caller)
                    #expect(response.status == .ok)
                    #expect(response.headers[.cacheControl] == "no-store")
                    let object = response.object
                    #expect(object["active"] as? Bool == true)
                    #expect(object["scope"] as? String == "billing:read introspect")
                    #expect(object["sub"] as? String == agent)
                    #expect(object["key_id"] as? String == id)
                    #expect(object["token_type"] as? String == "api_key")
                    let exp = try #require(object["exp"] as? Int)
                    let iat = try #require(object["iat"] as? Int)
                    #expect(exp - iat == 60)
                }
            }
        }
    }

    @Test("37: garbage, unknown, revoked, expired → exactly {\"active\":false}")
    func inactiveTokens() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (revokedID, revoked) = try await api.createKey(agent: agent, scopes: ["x"])
                _ = try await api.admin(.post, "/admin/keys/\(revokedID)/revoke")
                let (_, expired) = try await api.createKey(agent: agent, scopes: ["x"], extra: #","expires_in":1"#)
                try await Task.sleep(for: .milliseconds(1100))
                let tokens = [
                    "garbage", SecretFormat.apiKey.generate(), revoked, expired, "eyJhbGciOiJub25lIn0.e30.", String(repeating: "A", count: 4000),
                ]
                for token in tokens {
                    let response = try await api.introspect(token, as: env.adminKey)
                    #expect(response.status == .ok)
                    #expect(response.text == #"{"active":false}"#)
                }
            }
        }
    }

    @Test("a token value with control characters is an inactive token, not a bad request; a NUL stays 400; revocation answers 200")
    func controlCharactersInToken() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (_, key) = try await api.createKey(agent: agent, scopes: ["x"])
                let token = try await api.accessToken(agent: agent, scope: "a")
                // RFC 7662 §2.2: a properly authorised call about something that is not an active
                // token answers {"active":false}; a live key or token with a control character
                // added is not that key or token.
                for value in ["a%0Ab", "%09", "x%0D%0Ay", "a%7Fb", "\(key)%0A", "%0A\(key)", "\(token)%09", "\(token)%0A"] {
                    let response = try await api.request(.post, "/oauth/introspect", key: env.adminKey, form: "token=\(value)")
                    #expect(response.status == .ok, "\(value.prefix(12))")
                    #expect(response.text == #"{"active":false}"#, "\(value.prefix(12))")
                    // RFC 7009 §2.2: an invalid token is no error; and the live ones stay live.
                    let revoke = try await api.request(.post, "/oauth/revoke", key: env.adminKey, form: "token=\(value)")
                    #expect(revoke.status == .ok, "\(value.prefix(12))")
                }
                #expect(try await api.introspect(key, as: env.adminKey).object["active"] as? Bool == true)
                #expect(try await api.introspect(token, as: env.adminKey).object["active"] as? Bool == true)
                // A NUL is refused as before, and control characters elsewhere in the form too.
                for form in ["token=a%00b", "token=\(key)%00", "token=x&token_type_hint=a%0Ab"] {
                    let response = try await api.request(.post, "/oauth/introspect", key: env.adminKey, form: form)
                    #expect(response.status == .badRequest, "\(form.prefix(20))")
                    #expect(response.errorCode == "invalid_request")
                }
            }
        }
    }

    @Test(
        "malformed introspection requests → 400",
        arguments: [
            ("", "application/x-www-form-urlencoded"),
            ("token_type_hint=api_key", "application/x-www-form-urlencoded"),
            ("token=", "application/x-www-form-urlencoded"),
            ("token=a&token=b", "application/x-www-form-urlencoded"),
            ("token=%zz", "application/x-www-form-urlencoded"),
            ("token=%FF%FE", "application/x-www-form-urlencoded"),
            ("token=a%00b", "application/x-www-form-urlencoded"),
            (#"{"token":"abc"}"#, "application/json"),
            ("--x\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\nabc\r\n--x--", "multipart/form-data; boundary=x"),
        ]
    )
    func malformedRequests(_ body: String, _ contentType: String) async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let response = try await api.request(.post, "/oauth/introspect", key: env.adminKey, headers: [.contentType: contentType], body: body)
                #expect(response.status == .badRequest)
                #expect(response.errorCode == "invalid_request")
            }
        }
    }

    @Test("GET on introspection → 405 JSON error")
    func wrongMethod() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let response = try await api.request(.get, "/oauth/introspect?token=x", key: env.adminKey)
                #expect(response.status == .methodNotAllowed || response.status == .notFound)
                #expect(response.errorCode != nil)
            }
        }
    }
}

@Suite("Introspection of access tokens, by clients")
struct TokenIntrospectionTests {
    @Test("an OAuth client authenticates with its credentials and sees token claims; a bad secret → 401 invalid_client")
    func clientAuthenticated() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let token = try await api.accessToken(agent: agent, scope: "billing:read", audience: "https://billing.example")
                let (resourceID, resourceSecret) = try await api.createClient(
                    agent: try await api.createAgent("billing api"),
                    json: #"{"scope":"introspect"}"#
                )
                let basic = "Basic " + Data("\(formEncoded(resourceID)):\(formEncoded(resourceSecret!))".utf8).base64EncodedString()
                let response = try await api.request(.post, "/oauth/introspect", headers: [.authorization: basic], form: "token=\(token)")
                #expect(response.status == .ok)
                let object = response.object
                #expect(object["active"] as? Bool == true)
                #expect(object["sub"] as? String == agent)
                #expect(object["aud"] as? String == "https://billing.example", "any audience is reported, not enforced")
                #expect(object["iss"] as? String == TestEnvironment.issuer)
                #expect(object["scope"] as? String == "billing:read")
                #expect(object["token_type"] as? String == "Bearer")
                #expect((object["exp"] as? Int).map { $0 > Int(Date().timeIntervalSince1970) } == true)

                let wrong = "Basic " + Data("\(formEncoded(resourceID)):\(SecretFormat.clientSecret.generate())".utf8).base64EncodedString()
                let refused = try await api.request(.post, "/oauth/introspect", headers: [.authorization: wrong], form: "token=\(token)")
                #expect(refused.status == .unauthorized)
                #expect(refused.errorCode == "invalid_client")
                let post = try await api.request(
                    .post,
                    "/oauth/introspect",
                    form: "token=\(token)&client_id=\(formEncoded(resourceID))&client_secret=\(resourceSecret!)"
                )
                #expect(post.status == .unauthorized, "a basic client may not switch to client_secret_post")
            }
        }
    }

    @Test("a Bearer token with scope introspect may introspect; one without → 403")
    func bearerCaller() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let subject = try await api.accessToken(agent: agent, scope: "a")
                let introspector = try await api.serverToken(agent: agent, scope: "introspect")
                let plain = try await api.serverToken(agent: agent, scope: "b")
                let ok = try await api.request(
                    .post,
                    "/oauth/introspect",
                    headers: [.authorization: "Bearer \(introspector)"],
                    form: "token=\(subject)"
                )
                #expect(ok.object["active"] as? Bool == true)
                let forbidden = try await api.request(
                    .post,
                    "/oauth/introspect",
                    headers: [.authorization: "Bearer \(plain)"],
                    form: "token=\(subject)"
                )
                #expect(forbidden.status == .forbidden)
            }
        }
    }
}
