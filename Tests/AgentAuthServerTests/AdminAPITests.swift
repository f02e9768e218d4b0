import AgentAuthCore
import AgentAuthHTTP
import AgentAuthSQLite
import AgentAuthServer
import AgentAuthTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Admin API")
struct AdminAPITests {
    @Test("no key → 401 with a bare Bearer challenge; non-admin key → 403 insufficient_scope")
    func adminNeedsAdminScope() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let anonymous = try await api.request(.get, "/admin/agents")
                #expect(anonymous.status == .unauthorized)
                #expect(anonymous.headers[.wwwAuthenticate] == "Bearer")
                #expect(anonymous.errorCode == "unauthorized")

                let agent = try await api.createAgent()
                let (_, key) = try await api.createKey(agent: agent, scopes: ["conversations:read", "introspect"])
                let forbidden = try await api.request(.post, "/admin/agents", key: key, json: #"{"name":"x"}"#)
                #expect(forbidden.status == .forbidden)
                #expect(forbidden.errorCode == "insufficient_scope")
                #expect(forbidden.headers[.wwwAuthenticate] == #"Bearer error="insufficient_scope", scope="admin""#)
                let listed = try await api.admin(.get, "/admin/agents")
                #expect((listed.object["agents"] as? [Any])?.count == 2, "the forbidden request must not have created an agent")

                let garbage = try await api.request(.get, "/admin/agents", key: "sk-agent-garbage")
                #expect(garbage.status == .unauthorized)
                #expect(garbage.errorCode == "invalid_token")
                #expect(garbage.headers[.wwwAuthenticate]?.hasPrefix(#"Bearer error="invalid_token""#) == true)
            }
        }
    }

    @Test("agents: create, list, show, disable, enable")
    func agentLifecycle() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let created = try await api.admin(.post, "/admin/agents", json: #"{"name":"research agent"}"#)
                #expect(created.status == .created)
                let id = try #require(created.object["id"] as? String)
                #expect(Identifier.isValid(id, prefix: "agt_"))
                #expect(created.object["name"] as? String == "research agent")
                #expect(created.object["status"] as? String == "active")
                #expect((created.object["created_at"] as? String).flatMap { try? Date($0, strategy: .iso8601) } != nil)

                let list = try await api.admin(.get, "/admin/agents")
                let ids = (list.object["agents"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
                #expect(ids == [env.adminAgentID, id])

                let shown = try await api.admin(.get, "/admin/agents/\(id)")
                #expect(shown.status == .ok)
                #expect(shown.object["name"] as? String == "research agent")

                let disabled = try await api.admin(.post, "/admin/agents/\(id)/disable")
                #expect(disabled.status == .ok)
                #expect(disabled.object["status"] as? String == "disabled")
                #expect(disabled.object["disabled_at"] is String)
                let enabled = try await api.admin(.post, "/admin/agents/\(id)/enable")
                #expect(enabled.object["status"] as? String == "active")

                #expect(try await api.admin(.get, "/admin/agents/agt_00000000000000000000").status == .notFound)
                #expect(try await api.admin(.get, "/admin/agents/not-an-id").status == .notFound)
                #expect(try await api.admin(.post, "/admin/agents/agt_00000000000000000000/disable").status == .notFound)
            }
        }
    }

    @Test("agent names are validated", arguments: [#"{"name":""}"#, #"{"name":"   "}"#, #"{"name":"a\u0000b"}"#, #"{"name":42}"#, #"{}"#, "[]"])
    func badAgentNames(_ body: String) async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let response = try await api.admin(.post, "/admin/agents", json: body)
                #expect(response.status == .badRequest)
                #expect(response.errorCode == "invalid_request")
            }
        }
    }

    @Test("keys: the plaintext appears only in the creation response")
    func keyPlaintextShownOnce() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let created = try await api.admin(
                    .post,
                    "/admin/agents/\(agent)/keys",
                    json: #"{"scopes":["conversations:read"],"name":"ci","expires_in":600,"rate_limit":"high"}"#
                )
                #expect(created.status == .created)
                let key = try #require(created.object["key"] as? String)
                let id = try #require(created.object["id"] as? String)
                #expect(SecretFormat.apiKey.isWellFormed(key))
                #expect(created.object["display"] as? String == SecretFormat.apiKey.display(key))
                #expect(created.object["scopes"] as? [String] == ["conversations:read"])
                #expect(created.object["rate_limit"] as? String == "high")
                #expect(created.object["expires_at"] is String)

                let responses = [
                    try await api.admin(.get, "/admin/agents/\(agent)/keys"),
                    try await api.admin(.get, "/admin/keys/\(id)"),
                    try await api.admin(.post, "/admin/keys/\(id)/revoke"),
                ]
                for response in responses {
                    #expect(response.status == .ok)
                    #expect(!response.text.contains(key), "the plaintext key must not appear after creation")
                    #expect(!response.text.contains(#""key":"#))
                }
                let listed = try #require((responses[0].object["keys"] as? [[String: Any]])?.first)
                #expect(listed["display"] as? String == SecretFormat.apiKey.display(key))
                #expect(responses[2].object["status"] as? String == "revoked")
                #expect(env.logs.all.allSatisfy { !$0.contains(key) }, "the plaintext key must never be logged")
            }
        }
    }

    @Test(
        "key requests are validated",
        arguments: [
            #"{"scopes":[]}"#, #"{"scopes":["bad scope"]}"#, #"{"scopes":["a\"b"]}"#, #"{"scopes":"admin"}"#, #"{"scopes":["x"],"expires_in":0}"#,
            #"{"scopes":["x"],"expires_in":-5}"#, #"{"scopes":["x"],"expires_in":1e30}"#, #"{"scopes":["x"],"expires_in":"60"}"#,
            #"{"scopes":["x"],"rate_limit":"ludicrous"}"#, #"{"name":"no scopes"}"#,
        ]
    )
    func badKeyRequests(_ body: String) async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let response = try await api.admin(.post, "/admin/agents/\(agent)/keys", json: body)
                #expect(response.status == .badRequest, "\(body) → \(response.status)")
                #expect(response.errorCode == "invalid_request")
                let keys = try await api.admin(.get, "/admin/agents/\(agent)/keys")
                #expect((keys.object["keys"] as? [Any])?.isEmpty == true, "a refused request must store nothing")
            }
        }
    }

    @Test("keys for unknown or disabled agents are refused")
    func keysForMissingOrDisabledAgents() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let missing = try await api.admin(.post, "/admin/agents/agt_00000000000000000000/keys", json: #"{"scopes":["x"]}"#)
                #expect(missing.status == .notFound)
                let agent = try await api.createAgent()
                _ = try await api.admin(.post, "/admin/agents/\(agent)/disable")
                let disabled = try await api.admin(.post, "/admin/agents/\(agent)/keys", json: #"{"scopes":["x"]}"#)
                #expect(disabled.status == .conflict)
            }
        }
    }

    @Test("a disabled agent's keys fail at once and work again after enable")
    func disableRefusesKeys() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (_, key) = try await api.createKey(agent: agent, scopes: ["introspect"])
                #expect(try await api.introspect(key, as: key).status == .ok)
                _ = try await api.admin(.post, "/admin/agents/\(agent)/disable")
                let refused = try await api.introspect(key, as: key)
                #expect(refused.status == .unauthorized)
                #expect(try await api.introspect(key, as: env.adminKey).object["active"] as? Bool == false)
                _ = try await api.admin(.post, "/admin/agents/\(agent)/enable")
                #expect(try await api.introspect(key, as: key).status == .ok)
            }
        }
    }

    @Test("a rolled key works during its grace and fails after; the replacement works")
    func rollWithGrace() async throws {
        try await TestEnvironment.with { env in
            let clock = TestClock()
            try await env.test(clock: clock) { api, _ in
                let agent = try await api.createAgent()
                let (id, old) = try await api.createKey(agent: agent, scopes: ["introspect", "billing:read"], extra: #","expires_in":3600"#)
                let rolled = try await api.admin(.post, "/admin/keys/\(id)/roll", json: #"{"grace_seconds":1}"#)
                #expect(rolled.status == .created)
                let new = try #require(rolled.object["key"] as? String)
                #expect(new != old)
                #expect(rolled.object["replaces"] as? String == id)
                #expect(rolled.object["scopes"] as? [String] == ["billing:read", "introspect"])
                #expect(rolled.object["expires_at"] is String, "the replacement keeps a lifetime like the old key's")

                #expect(try await api.introspect(old, as: env.adminKey).object["active"] as? Bool == true, "old key works during grace")
                #expect(try await api.introspect(new, as: env.adminKey).object["active"] as? Bool == true)
                clock.advance(2)
                #expect(try await api.introspect(old, as: env.adminKey).object["active"] as? Bool == false, "old key fails after grace")
                #expect(try await api.request(.get, "/admin/agents", key: old).status == .unauthorized)
                #expect(try await api.introspect(new, as: env.adminKey).object["active"] as? Bool == true)

                let again = try await api.admin(.post, "/admin/keys/\(id)/roll", json: #"{"grace_seconds":0}"#)
                #expect(again.status == .conflict, "a key can be rolled once")
                let badGrace = try await api.admin(
                    .post,
                    "/admin/keys/\(try #require(rolled.object["id"] as? String))/roll",
                    json: #"{"grace_seconds":-1}"#
                )
                #expect(badGrace.status == .badRequest)
            }
        }
    }

    @Test("roll without a body stops the old key at once")
    func rollWithoutGrace() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (id, old) = try await api.createKey(agent: agent, scopes: ["introspect"])
                let rolled = try await api.admin(.post, "/admin/keys/\(id)/roll")
                #expect(rolled.status == .created)
                #expect(try await api.introspect(old, as: env.adminKey).object["active"] as? Bool == false)
                let revoked = try await api.admin(.post, "/admin/keys/\(try #require(rolled.object["id"] as? String))/revoke")
                #expect(revoked.status == .ok)
                let rollRevoked = try await api.admin(.post, "/admin/keys/\(try #require(rolled.object["id"] as? String))/roll")
                #expect(rollRevoked.status == .conflict)
            }
        }
    }

    @Test("last-used times are written in batches, not on the request")
    func lastUsedIsBatched() async throws {
        try await TestEnvironment.with { env in
            try await env.test(components: env.server.components(env.configuration())) { api, components in
                let usage = components.usage
                let agent = try await api.createAgent()
                let (id, key) = try await api.createKey(agent: agent, scopes: ["introspect"])
                #expect(try await api.introspect(key, as: key).status == .ok)
                #expect(try await env.store.apiKey(id: id)?.lastUsedAt == nil, "verification must not write to the store")
                #expect(usage.pendingCount >= 1)
                try await usage.flush()
                #expect(try await env.store.apiKey(id: id)?.lastUsedAt != nil)
                #expect(usage.pendingCount == 0)
            }
        }
    }

    @Test("health and readiness")
    func health() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                #expect(try await api.request(.get, "/healthz").object["status"] as? String == "ok")
                #expect(try await api.request(.get, "/readyz").object["status"] as? String == "ready")
                let missing = try await api.request(.get, "/nope")
                #expect(missing.status == .notFound)
                #expect(missing.errorCode == "not_found")
            }
        }
    }
}
