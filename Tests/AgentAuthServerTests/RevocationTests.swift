import AgentAuthCore
import AgentAuthHTTP
import AgentAuthSQLite
import AgentAuthServer
import AgentAuthTesting
import AsyncHTTPClient
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Testing

/// RFC 7009 revocation and the revocation feed (SECURITY-CASES 27, 31, 36–40).
@Suite("Revocation")
struct RevocationTests {
    static func basic(_ id: String, _ secret: String) -> HTTPFields {
        [.authorization: "Basic " + Data("\(formEncoded(id)):\(formEncoded(secret))".utf8).base64EncodedString()]
    }

    /// A client and a token issued to it.
    /// A client and a token issued to it, for the server's own endpoints (the admin audience).
    static func clientAndToken(_ api: TestAPI, agent: String, scope: String = "admin") async throws -> (id: String, secret: String, token: String) {
        let (id, secret) = try await api.createClient(agent: agent, json: #"{"scope":"\#(scope)","audience":["\#(TestEnvironment.issuer)"]}"#)
        let response = try await api.token(
            form: "grant_type=client_credentials&audience=\(formEncoded(TestEnvironment.issuer))",
            basic: (id, secret!)
        )
        return (id, secret!, try #require(response.object["access_token"] as? String))
    }

    @Test("38: a client revokes its own token → 200; Bearer use → 401; introspection → inactive")
    func revokeOwnToken() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let (id, secret, token) = try await Self.clientAndToken(api, agent: env.adminAgentID)
                #expect(try await api.request(.get, "/admin/agents", headers: [.authorization: "Bearer \(token)"]).status == .ok)
                let revoked = try await api.request(
                    .post,
                    "/oauth/revoke",
                    headers: Self.basic(id, secret),
                    form: "token=\(token)&token_type_hint=access_token"
                )
                #expect(revoked.status == .ok)
                #expect(revoked.headers[.cacheControl] == "no-store")
                BearerTokenTests.expectRefused(try await api.request(.get, "/admin/agents", headers: [.authorization: "Bearer \(token)"]))
                #expect(try await api.introspect(token, as: env.adminKey).text == #"{"active":false}"#)
                let again = try await api.request(.post, "/oauth/revoke", headers: Self.basic(id, secret), form: "token=\(token)")
                #expect(again.status == .ok, "39: revoking an already revoked token → 200")
            }
        }
    }

    @Test("39: unknown or garbage tokens → 200; another client's token → the same 200, and it stays active")
    func revokeOthers() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (id, secret, _) = try await Self.clientAndToken(api, agent: agent, scope: "a")
                let (_, _, otherToken) = try await Self.clientAndToken(api, agent: agent, scope: "a")
                for token in ["garbage", SecretFormat.apiKey.generate(), "eyJhbGciOiJub25lIn0.e30.", String(repeating: "x", count: 3000)] {
                    #expect(try await api.request(.post, "/oauth/revoke", headers: Self.basic(id, secret), form: "token=\(token)").status == .ok)
                }
                let refused = try await api.request(.post, "/oauth/revoke", headers: Self.basic(id, secret), form: "token=\(otherToken)")
                #expect(refused.status == .ok && refused.text.isEmpty, "54: answered as for an unknown token")
                #expect(try await api.introspect(otherToken, as: env.adminKey).object["active"] as? Bool == true, "the token stays active")
                // An admin may revoke anything.
                #expect(try await api.request(.post, "/oauth/revoke", key: env.adminKey, form: "token=\(otherToken)").status == .ok)
                #expect(try await api.introspect(otherToken, as: env.adminKey).text == #"{"active":false}"#)
            }
        }
    }

    @Test("31 and 39: API keys are revoked through /oauth/revoke by an admin or a client of the same agent, not by others")
    func revokeAPIKeys() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (_, key) = try await api.createKey(agent: agent, scopes: ["introspect"])
                let (strangerID, strangerSecret, _) = try await Self.clientAndToken(api, agent: try await api.createAgent("stranger"), scope: "a")
                let refused = try await api.request(.post, "/oauth/revoke", headers: Self.basic(strangerID, strangerSecret), form: "token=\(key)")
                #expect(refused.status == .ok, "54: answered as for an unknown key")
                #expect(try await api.introspect(key, as: key).status == .ok)
                let (ownID, ownSecret, _) = try await Self.clientAndToken(api, agent: agent, scope: "a")
                #expect(try await api.request(.post, "/oauth/revoke", headers: Self.basic(ownID, ownSecret), form: "token=\(key)").status == .ok)
                APIKeySecurityTests.expectRefused(try await api.introspect(key, as: key))
            }
        }
    }

    @Test("40: no auth → 401; a credential without admin → 403; missing token → 400; GET → 405")
    func badRevocations() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let (id, secret, token) = try await Self.clientAndToken(api, agent: env.adminAgentID)
                let anonymous = try await api.request(.post, "/oauth/revoke", form: "token=\(token)")
                #expect(anonymous.status == .unauthorized)
                let agent = try await api.createAgent()
                let (_, introspectKey) = try await api.createKey(agent: agent, scopes: ["introspect"])
                #expect(try await api.request(.post, "/oauth/revoke", key: introspectKey, form: "token=\(token)").status == .forbidden)
                let missing = try await api.request(.post, "/oauth/revoke", headers: Self.basic(id, secret), form: "token_type_hint=access_token")
                #expect(missing.status == .badRequest && missing.errorCode == "invalid_request")
                #expect(try await api.request(.get, "/oauth/revoke?token=\(token)", headers: Self.basic(id, secret)).status == .methodNotAllowed)
                #expect(try await api.introspect(token, as: env.adminKey).object["active"] as? Bool == true, "nothing was revoked")
            }
        }
    }

    @Test("40: the store unavailable → 503 with Retry-After, never a silent success")
    func storeUnavailable() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let (id, secret, token) = try await Self.clientAndToken(api, agent: env.adminAgentID)
                // Another connection holds the write lock longer than the store's busy timeout.
                let blocker = try DatabaseQueue(path: env.directory.appendingPathComponent("agentauth.sqlite").path)
                let locked = DispatchSemaphore(value: 0)
                let release = DispatchSemaphore(value: 0)
                DispatchQueue.global().async {
                    try? blocker.writeWithoutTransaction { db in
                        try db.execute(sql: "BEGIN EXCLUSIVE")
                        locked.signal()
                        release.wait()
                        try db.execute(sql: "ROLLBACK")
                    }
                }
                try await RawConnection.offPool { locked.wait() }
                let response = try await api.request(.post, "/oauth/revoke", headers: Self.basic(id, secret), form: "token=\(token)")
                release.signal()
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] != nil)
                #expect(
                    try await api.introspect(token, as: env.adminKey).object["active"] as? Bool == true,
                    "a failed revocation is not reported as done"
                )
                #expect(try await api.request(.post, "/oauth/revoke", headers: Self.basic(id, secret), form: "token=\(token)").status == .ok)
                #expect(try await api.introspect(token, as: env.adminKey).text == #"{"active":false}"#)
            }
        }
    }

    @Test("36: the feed needs client or introspect/admin credentials; it lists revocations and answers a cursor at once")
    func feed() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                #expect(try await api.request(.get, "/oauth/revocations").status == .unauthorized)
                let agent = try await api.createAgent()
                let (_, reader) = try await api.createKey(agent: agent, scopes: ["conversations:read"])
                #expect(try await api.request(.get, "/oauth/revocations?wait=0", key: reader).status == .forbidden)
                let (_, feedKey) = try await api.createKey(agent: agent, scopes: ["introspect"])
                let empty = try await api.request(.get, "/oauth/revocations?after=0&wait=0", key: feedKey)
                #expect(empty.status == .ok)
                #expect((empty.object["events"] as? [Any])?.isEmpty == true)

                let (keyID, _) = try await api.createKey(agent: agent, scopes: ["x"])
                _ = try await api.admin(.post, "/admin/keys/\(keyID)/revoke")
                let (id, secret, token) = try await Self.clientAndToken(api, agent: agent, scope: "a")
                _ = try await api.request(.post, "/oauth/revoke", headers: Self.basic(id, secret), form: "token=\(token)")
                let victim = try await api.createAgent("victim")
                _ = try await api.admin(.post, "/admin/agents/\(victim)/disable")

                let all = try await api.request(.get, "/oauth/revocations?after=0&wait=0", key: feedKey)
                let events = try #require(all.object["events"] as? [[String: Any]])
                #expect(events.map { $0["type"] as? String } == ["api_key", "token", "agent"])
                #expect(events[0]["subject"] as? String == keyID)
                #expect(events[2]["subject"] as? String == victim)
                #expect(events[1]["expires_at"] is Double)
                let cursor = try #require(all.object["cursor"] as? Int)
                let none = try await api.request(.get, "/oauth/revocations?after=\(cursor)&wait=0", key: feedKey)
                #expect((none.object["events"] as? [Any])?.isEmpty == true)
                #expect(none.object["cursor"] as? Int == cursor)
                let ahead = try await api.request(.get, "/oauth/revocations?after=\(cursor + 100)&wait=0", key: feedKey)
                #expect(ahead.object["reset"] as? Bool == true, "a cursor the server never issued means start again")
                let huge = try await api.request(.get, "/oauth/revocations?after=9223372036854775806&wait=0", key: feedKey)
                #expect(huge.object["reset"] as? Bool == true, "the largest cursor is handled without overflow")
                for bad in ["after=-1", "after=abc", "after=9223372036854775807", "after=99999999999999999999", "wait=31", "wait=x"] {
                    #expect(try await api.request(.get, "/oauth/revocations?\(bad)", key: feedKey).status == .badRequest, "\(bad)")
                }
            }
        }
    }

    @Test("the long-poll returns as soon as a revocation happens")
    func longPoll() async throws {
        try await TestEnvironment.with { env in
            try await env.test(.live) { api in
                let agent = try await api.createAgent()
                let (_, feedKey) = try await api.createKey(agent: agent, scopes: ["introspect"])
                let (keyID, _) = try await api.createKey(agent: agent, scopes: ["x"])
                let port = try #require(api.client.port)
                let start = ContinuousClock.now
                // Its own connection: the test client's single connection would queue the revocation behind it.
                async let answer: HTTPClientResponse = {
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/oauth/revocations?after=0&wait=20")
                    request.headers.add(name: "X-API-Key", value: feedKey)
                    return try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                }()
                try await Task.sleep(for: .milliseconds(300))
                _ = try await api.admin(.post, "/admin/keys/\(keyID)/revoke")
                let response = try await answer
                let body = try await response.body.collect(upTo: 1 << 20)
                #expect(ContinuousClock.now - start < .seconds(5))
                let object = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
                #expect((object?["events"] as? [[String: Any]])?.first?["subject"] as? String == keyID)
            }
        }
    }

    @Test("revocations made on the database directly (the CLI) reach the server's own verification")
    func externalRevocations() async throws {
        try await TestEnvironment.with { env in
            try await env.test(.live) { api in
                let agent = try await api.createAgent()
                let token = try await api.serverToken(agent: agent, scope: "introspect")
                #expect(
                    try await api.request(.post, "/oauth/introspect", headers: [.authorization: "Bearer \(token)"], form: "token=x").status == .ok
                )
                // Another writer (another node, or a tool) records a revocation in the store.
                let other = try SQLiteStore(path: env.directory.appendingPathComponent("agentauth.sqlite").path)
                let payload = try #require(Base64URL.decode(token.split(separator: ".")[1].utf8))
                let jti = try #require((try JSONSerialization.jsonObject(with: payload) as? [String: Any])?["jti"] as? String)
                _ = try await other.revokeToken(jti: jti, agentID: agent, expiresAt: Date().addingTimeInterval(600), at: Date())
                // The node's revocation sync runs every 100 ms; allow for a loaded machine.
                var status = HTTPResponse.Status.ok
                for _ in 0..<60 where status != .unauthorized {
                    try await Task.sleep(for: .milliseconds(50))
                    status = try await api.request(.post, "/oauth/introspect", headers: [.authorization: "Bearer \(token)"], form: "token=x").status
                }
                #expect(status == .unauthorized)
            }
        }
    }
}
