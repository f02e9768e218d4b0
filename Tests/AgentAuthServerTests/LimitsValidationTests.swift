import AgentAuthCore
import AgentAuthHTTP
import AgentAuthSQLite
import AgentAuthServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The admin API's refusals of bad tier, quota and PATCH requests: each is refused before the
/// store is asked to change anything, and nothing is stored.
@Suite("Admin API: limits validation")
struct LimitsValidationTests {
    @Test(
        "tier definitions are validated",
        arguments: [
            ("unlimited", #"{"requests":10,"window_seconds":60}"#), ("9lives", #"{"requests":10,"window_seconds":60}"#),
            ("has%20space", #"{"requests":10,"window_seconds":60}"#), (String(repeating: "a", count: 65), #"{"requests":10,"window_seconds":60}"#),
            ("gold", #"{"requests":0,"window_seconds":60}"#), ("gold", #"{"requests":1000000001,"window_seconds":60}"#),
            ("gold", #"{"requests":10,"window_seconds":0}"#), ("gold", #"{"requests":10,"window_seconds":2678401}"#),
            ("gold", #"{"requests":10,"window_seconds":60,"burst":0}"#), ("gold", #"{"requests":10,"window_seconds":60,"burst":-1}"#),
            ("gold", #"{"requests":10}"#), ("gold", #"{"requests":"10","window_seconds":60}"#), ("gold", #"{"#), ("gold", "[]"),
        ]
    )
    func badTiers(_ name: String, _ body: String) async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let response = try await api.admin(.put, "/admin/rate-limits/\(name)", json: body)
                #expect(response.status == .badRequest, "\(name) \(body) → \(response.status)")
                #expect(response.errorCode == "invalid_request")
            }
        }
    }

    @Test("a tier body must be JSON (415), present (400), and the route needs the admin scope")
    func tierBodies() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let text = try await api.request(
                    .put,
                    "/admin/rate-limits/gold",
                    key: env.adminKey,
                    headers: [.contentType: "text/plain"],
                    body: #"{"requests":10,"window_seconds":60}"#
                )
                #expect(text.status == .unsupportedMediaType)
                #expect(try await api.admin(.put, "/admin/rate-limits/gold").status == .badRequest)
                let agent = try await api.createAgent()
                let (_, key) = try await api.createKey(agent: agent, scopes: ["introspect"])
                let forbidden = try await api.request(.put, "/admin/rate-limits/gold", key: key, json: #"{"requests":10,"window_seconds":60}"#)
                #expect(forbidden.status == .forbidden)
                #expect(try await api.request(.get, "/admin/rate-limits").status == .unauthorized)
                #expect(try await api.request(.delete, "/admin/rate-limits/low", key: key).status == .forbidden)
            }
        }
    }

    @Test("a name no tier can have is not found")
    func impossibleTierNames() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let impossible = try await api.admin(.get, "/admin/rate-limits/-x")
                #expect(impossible.status == .notFound)
                #expect(try await api.admin(.delete, "/admin/rate-limits/-x").status == .notFound)
                #expect(try await api.admin(.delete, "/admin/rate-limits/unlimited").status == .notFound)
            }
        }
    }

    @Test(
        "agent limits on creation are validated",
        arguments: [
            #"{"name":"a","rate_limit":"bad name"}"#, #"{"name":"a","rate_limit":""}"#, #"{"name":"a","rate_limit":7}"#,
            #"{"name":"a","quota":{"requests":0,"period":"day"}}"#, #"{"name":"a","quota":{"requests":1000000000001,"period":"day"}}"#,
            #"{"name":"a","quota":{"requests":10,"period":"week"}}"#, #"{"name":"a","quota":{"requests":10}}"#, #"{"name":"a","quota":10}"#,
        ]
    )
    func badAgentLimits(_ body: String) async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let response = try await api.admin(.post, "/admin/agents", json: body)
                #expect(response.status == .badRequest, "\(body) → \(response.status)")
                #expect(response.errorCode == "invalid_request")
                let listed = try await api.admin(.get, "/admin/agents")
                #expect((listed.object["agents"] as? [Any])?.count == 1, "a refused request must store nothing")
            }
        }
    }

    @Test(
        "agent PATCH bodies are validated",
        arguments: [
            #"{"name":null}"#, #"{"name":""}"#, #"{"name":42}"#, #"{"rate_limit":"no spaces allowed"}"#,
            #"{"quota":{"requests":0,"period":"hour"}}"#, #"{"quota":{"requests":5,"period":"fortnight"}}"#, #"{"quota":"5/day"}"#, "[]", "{",
        ]
    )
    func badAgentPatches(_ body: String) async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let response = try await api.admin(.patch, "/admin/agents/\(agent)", json: body)
                #expect(response.status == .badRequest, "\(body) → \(response.status)")
                #expect(response.errorCode == "invalid_request")
                #expect(try await api.admin(.get, "/admin/agents/\(agent)").object["name"] as? String == "research agent")
            }
        }
    }

    @Test("PATCH: an empty body is 400, a non-JSON one 415, an unknown id 404; absent members change nothing")
    func patchShapes() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                #expect(try await api.admin(.patch, "/admin/agents/\(agent)").status == .badRequest)
                let text = try await api.request(
                    .patch,
                    "/admin/agents/\(agent)",
                    key: env.adminKey,
                    headers: [.contentType: "text/plain"],
                    body: "{}"
                )
                #expect(text.status == .unsupportedMediaType)
                #expect(try await api.admin(.patch, "/admin/agents/agt_00000000000000000000", json: "{}").status == .notFound)
                #expect(try await api.admin(.patch, "/admin/keys/key_00000000000000000000", json: "{}").status == .notFound)
                #expect(try await api.admin(.patch, "/admin/clients/no-such-client", json: "{}").status == .notFound)

                // Nothing asked, nothing changed: the same agent back, and no event recorded.
                let unchanged = try await api.admin(.patch, "/admin/agents/\(agent)", json: #"{"name":"research agent","unknown":1}"#)
                #expect(unchanged.status == .ok)
                #expect(unchanged.object["name"] as? String == "research agent")
                #expect(unchanged.object["rate_limit"] is NSNull, "rate_limit is null when none")
                #expect(unchanged.object["quota"] is NSNull, "quota is null when none")
                let events = try await env.store.auditEvents(AuditFilter(agentID: agent, type: .agentUpdated, limit: 10))
                #expect(events.isEmpty)
            }
        }
    }

    @Test("key PATCH: scopes only narrow; widening, emptying or nulling them is refused")
    func keyScopesOnlyNarrow() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (id, _) = try await api.createKey(agent: agent, scopes: ["billing:read", "introspect"])
                for body in [
                    #"{"scopes":["billing:read","admin"]}"#, #"{"scopes":["admin"]}"#, #"{"scopes":[]}"#, #"{"scopes":null}"#,
                    #"{"scopes":"billing:read"}"#, #"{"scopes":["bad scope"]}"#, #"{"quota":{"requests":-1,"period":"day"}}"#,
                ] {
                    let response = try await api.admin(.patch, "/admin/keys/\(id)", json: body)
                    #expect(response.status == .badRequest, "\(body) → \(response.status)")
                }
                let shown = try await api.admin(.get, "/admin/keys/\(id)")
                #expect(shown.object["scopes"] as? [String] == ["billing:read", "introspect"], "a refused request changes nothing")
            }
        }
    }

    @Test("a revoked key can't be changed (409)")
    func revokedKeyPatch() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (id, _) = try await api.createKey(agent: agent, scopes: ["introspect"])
                _ = try await api.admin(.post, "/admin/keys/\(id)/revoke")
                let response = try await api.admin(.patch, "/admin/keys/\(id)", json: #"{"name":"renamed"}"#)
                #expect(response.status == .conflict)
            }
        }
    }

    @Test("client PATCH: scope only narrows; client_name and scope are validated")
    func clientScopeOnlyNarrows() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (id, _) = try await api.createClient(agent: agent, json: #"{"scope":"a b"}"#)
                for body in [
                    #"{"scope":"a c"}"#, #"{"scope":""}"#, #"{"scope":null}"#, #"{"scope":"a  b"}"#, #"{"client_name":""}"#, #"{"client_name":5}"#,
                    #"{"rate_limit":"a b"}"#,
                ] {
                    let response = try await api.admin(.patch, "/admin/clients/\(id)", json: body)
                    #expect(response.status == .badRequest, "\(body) → \(response.status)")
                }
                let shown = try await api.admin(.get, "/admin/clients/\(id)")
                #expect(shown.object["scope"] as? String == "a b")
                #expect(shown.object["status"] as? String == "active")
                #expect(shown.object["client_name"] is NSNull)
                #expect(shown.object["rate_limit"] is NSNull)
                #expect(shown.object["disabled_at"] is NSNull)
            }
        }
    }

    @Test("clients: disable, enable and delete of an unknown client are 404")
    func unknownClients() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let disable = try await api.admin(.post, "/admin/clients/cli_missing/disable")
                #expect(disable.status == .notFound)
                #expect(try await api.admin(.post, "/admin/clients/cli_missing/enable").status == .notFound)
                #expect(try await api.admin(.delete, "/admin/clients/cli_missing").status == .notFound)
            }
        }
    }

    @Test("usage: a bad period is 400, an unknown agent 404")
    func usageRefusals() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let bad = try await api.admin(.get, "/admin/agents/\(agent)/usage?period=week")
                #expect(bad.status == .badRequest)
                #expect(bad.errorCode == "invalid_request")
                #expect(try await api.admin(.get, "/admin/agents/agt_00000000000000000000/usage").status == .notFound)
            }
        }
    }
}
