import AgentAuthCore
import AgentAuthHTTP
import AgentAuthSQLite
import AgentAuthServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Rate-limit tiers, quotas and PATCH through the admin API, stored and audited.
@Suite("Admin API: rate limits, quotas and updates")
struct LimitsAdminAPITests {
    @Test("tiers: the built-in ones, put (create and replace), get, list, delete; audited with via")
    func tierLifecycle() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let builtIn = try await api.admin(.get, "/admin/rate-limits")
                #expect(builtIn.status == .ok)
                let names = (builtIn.object["rate_limits"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
                #expect(names == ["high", "low", "standard"])
                let standard = try await api.admin(.get, "/admin/rate-limits/standard")
                #expect(standard.object["requests"] as? Int == 600 && standard.object["window_seconds"] as? Int == 60)

                let created = try await api.admin(.put, "/admin/rate-limits/gold", json: #"{"requests":100,"window_seconds":60}"#)
                #expect(created.status == .ok)
                #expect(created.object["name"] as? String == "gold")
                #expect(created.object["requests"] as? Int == 100)
                #expect(created.object["window_seconds"] as? Int == 60)
                #expect(created.object["burst"] as? Int == 100, "burst defaults to requests")
                let replaced = try await api.admin(.put, "/admin/rate-limits/gold", json: #"{"requests":50,"window_seconds":10,"burst":5}"#)
                #expect(replaced.status == .ok)
                let shown = try await api.admin(.get, "/admin/rate-limits/gold")
                #expect(shown.object["requests"] as? Int == 50 && shown.object["window_seconds"] as? Int == 10 && shown.object["burst"] as? Int == 5)
                let listed = try await api.admin(.get, "/admin/rate-limits")
                #expect((listed.object["rate_limits"] as? [Any])?.count == 4)

                let deleted = try await api.admin(.delete, "/admin/rate-limits/gold")
                #expect(deleted.status == .noContent)
                #expect(try await api.admin(.get, "/admin/rate-limits/gold").status == .notFound)
                #expect(try await api.admin(.delete, "/admin/rate-limits/gold").status == .notFound)

                let set = try await env.store.auditEvents(AuditFilter(type: .rateLimitSet, limit: 10))
                #expect(set.count == 2)
                #expect(set.first?.details["name"] == "gold" && set.first?.details["burst"] == "5" && set.first?.details["via"] == "api")
                let removed = try await env.store.auditEvents(AuditFilter(type: .rateLimitDeleted, limit: 10))
                #expect(removed.count == 1 && removed.first?.details["via"] == "api")
            }
        }
    }

    @Test("a tier can't be deleted while assigned (409); undefined tiers can't be assigned (400); unlimited needs no definition")
    func assignments() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                _ = try await api.admin(.put, "/admin/rate-limits/silver", json: #"{"requests":10,"window_seconds":1}"#)
                let agent = try await api.admin(.post, "/admin/agents", json: #"{"name":"limited","rate_limit":"silver"}"#)
                #expect(agent.status == .created)
                #expect(agent.object["rate_limit"] as? String == "silver")
                let agentID = try #require(agent.object["id"] as? String)
                let conflict = try await api.admin(.delete, "/admin/rate-limits/silver")
                #expect(conflict.status == .conflict)
                #expect(try await api.admin(.get, "/admin/rate-limits/silver").status == .ok, "a refused delete keeps the tier")

                for (method, path, body) in [
                    (HTTPRequest.Method.post, "/admin/agents", #"{"name":"x","rate_limit":"nosuch"}"#),
                    (.post, "/admin/agents/\(agentID)/keys", #"{"scopes":["a"],"rate_limit":"nosuch"}"#),
                    (.post, "/admin/agents/\(agentID)/clients", #"{"scope":"a","rate_limit":"nosuch"}"#),
                    (.patch, "/admin/agents/\(agentID)", #"{"rate_limit":"nosuch"}"#),
                ] {
                    let response = try await api.admin(method, path, json: body)
                    #expect(response.status == .badRequest, "\(path) \(body) → \(response.status)")
                    #expect(response.errorCode == "invalid_request")
                }
                let (keyID, _) = try await api.createKey(agent: agentID, scopes: ["a"])
                #expect(try await api.admin(.patch, "/admin/keys/\(keyID)", json: #"{"rate_limit":"nosuch"}"#).status == .badRequest)
                let (clientID, _) = try await api.createClient(agent: agentID, json: #"{"scope":"a"}"#)
                #expect(try await api.admin(.patch, "/admin/clients/\(clientID)", json: #"{"rate_limit":"nosuch"}"#).status == .badRequest)

                let unlimited = try await api.admin(.patch, "/admin/agents/\(agentID)", json: #"{"rate_limit":"unlimited"}"#)
                #expect(unlimited.status == .ok)
                #expect(unlimited.object["rate_limit"] as? String == "unlimited")
                #expect(try await api.admin(.delete, "/admin/rate-limits/silver").status == .noContent, "no longer assigned")
            }
        }
    }

    @Test("agents: created with a tier and a quota; PATCH sets, keeps (absent) and removes (null); audited with what changed")
    func agentPatch() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let created = try await api.admin(
                    .post,
                    "/admin/agents",
                    json: #"{"name":"billing","rate_limit":"low","quota":{"requests":1000,"period":"day"}}"#
                )
                #expect(created.status == .created)
                let id = try #require(created.object["id"] as? String)
                #expect(created.object["rate_limit"] as? String == "low")
                #expect(quotaText(created.object["quota"]) == "1000/day")

                let renamed = try await api.admin(.patch, "/admin/agents/\(id)", json: #"{"name":"billing v2"}"#)
                #expect(renamed.status == .ok)
                #expect(renamed.object["name"] as? String == "billing v2")
                #expect(renamed.object["rate_limit"] as? String == "low", "an absent member keeps the field")
                #expect(quotaText(renamed.object["quota"]) == "1000/day")

                let changed = try await api.admin(
                    .patch,
                    "/admin/agents/\(id)",
                    json: #"{"rate_limit":"high","quota":{"requests":5,"period":"month"}}"#
                )
                #expect(changed.object["rate_limit"] as? String == "high")
                #expect(quotaText(changed.object["quota"]) == "5/month")

                let removed = try await api.admin(.patch, "/admin/agents/\(id)", json: #"{"rate_limit":null,"quota":null}"#)
                #expect(removed.status == .ok)
                #expect(removed.object["rate_limit"] is NSNull)
                #expect(removed.object["quota"] is NSNull)
                #expect(removed.object["name"] as? String == "billing v2")
                let shown = try await api.admin(.get, "/admin/agents/\(id)")
                #expect(shown.object["rate_limit"] is NSNull && shown.object["quota"] is NSNull, "the removal is stored")

                let events = try await env.store.auditEvents(AuditFilter(agentID: id, type: .agentUpdated, limit: 10))
                #expect(events.count == 3)
                let last = try #require(events.first)
                #expect(last.details["rate_limit"] == "(none)" && last.details["quota"] == "(none)" && last.details["name"] == nil)
                #expect(last.details["via"] == "api" && last.details["actor_agent_id"] == env.adminAgentID)
                #expect(events.last?.details["name"] == "billing v2")
                let creation = try await env.store.auditEvents(AuditFilter(agentID: id, type: .agentCreated, limit: 1))
                #expect(creation.first?.details["quota"] == "1000/day" && creation.first?.details["rate_limit"] == "low")
            }
        }
    }

    @Test("keys: created with a quota and no tier (null); PATCH narrows scopes, sets and removes the rest; the narrowed key loses the scope")
    func keyPatch() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let created = try await api.admin(
                    .post,
                    "/admin/agents/\(agent)/keys",
                    json: #"{"scopes":["introspect","billing:read"],"name":"ci","quota":{"requests":10,"period":"hour"}}"#
                )
                #expect(created.status == .created)
                #expect(created.object["rate_limit"] is NSNull, "no tier unless one is asked for")
                #expect(quotaText(created.object["quota"]) == "10/hour")
                let id = try #require(created.object["id"] as? String)
                let key = try #require(created.object["key"] as? String)

                let narrowed = try await api.admin(.patch, "/admin/keys/\(id)", json: #"{"scopes":["billing:read"],"rate_limit":"standard"}"#)
                #expect(narrowed.status == .ok)
                #expect(narrowed.object["scopes"] as? [String] == ["billing:read"])
                #expect(narrowed.object["rate_limit"] as? String == "standard")
                #expect(narrowed.object["name"] as? String == "ci")
                #expect(narrowed.object["key"] == nil, "the plaintext never appears again")
                #expect(try await api.introspect(key, as: key).status == .forbidden, "the key no longer has introspect")

                let cleared = try await api.admin(.patch, "/admin/keys/\(id)", json: #"{"name":null,"quota":null,"rate_limit":null}"#)
                #expect(cleared.object["name"] is NSNull && cleared.object["quota"] is NSNull && cleared.object["rate_limit"] is NSNull)
                #expect(cleared.object["scopes"] as? [String] == ["billing:read"])
                #expect(
                    try await api.admin(.patch, "/admin/keys/\(id)", json: #"{"scopes":["introspect"]}"#).status == .badRequest,
                    "no widening back"
                )

                let events = try await env.store.auditEvents(AuditFilter(agentID: agent, type: .keyUpdated, limit: 10))
                #expect(events.count == 2)
                #expect(events.last?.details["scope"] == "billing:read" && events.last?.details["via"] == "api")
                #expect(events.allSatisfy { $0.credentialID == id })
            }
        }
    }

    @Test("clients: created with client_name and a tier; PATCH narrows scope, renames, removes")
    func clientPatch() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let created = try await api.admin(
                    .post,
                    "/admin/agents/\(agent)/clients",
                    json: #"{"scope":"a b","client_name":"Nightly sync","rate_limit":"low"}"#
                )
                #expect(created.status == .created)
                #expect(created.object["client_name"] as? String == "Nightly sync")
                #expect(created.object["rate_limit"] as? String == "low")
                #expect(created.object["status"] as? String == "active")
                let id = try #require(created.object["client_id"] as? String)

                let narrowed = try await api.admin(.patch, "/admin/clients/\(id)", json: #"{"scope":"b"}"#)
                #expect(narrowed.status == .ok)
                #expect(narrowed.object["scope"] as? String == "b")
                #expect(narrowed.object["client_name"] as? String == "Nightly sync")
                #expect(narrowed.object["client_secret"] == nil)
                let cleared = try await api.admin(.patch, "/admin/clients/\(id)", json: #"{"client_name":null,"rate_limit":null}"#)
                #expect(cleared.object["client_name"] is NSNull && cleared.object["rate_limit"] is NSNull)
                #expect(try await api.admin(.patch, "/admin/clients/\(id)", json: #"{"scope":"a b"}"#).status == .badRequest)

                let events = try await env.store.auditEvents(AuditFilter(agentID: agent, type: .clientUpdated, limit: 10))
                #expect(events.count == 2 && events.allSatisfy { $0.details["via"] == "api" && $0.credentialID == id })
            }
        }
    }

    @Test("usage: the period's start and the counts, per credential")
    func usage() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                for period in ["hour", "day", "month"] {
                    let response = try await api.admin(.get, "/admin/agents/\(agent)/usage?period=\(period)")
                    #expect(response.status == .ok)
                    #expect(response.object["agent_id"] as? String == agent)
                    #expect(response.object["period"] as? String == period)
                    let since = try #require((response.object["since"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
                    #expect(since == Quota.Period(rawValue: period)!.start(of: Date()))
                    #expect(response.object["requests"] as? Int == 0)
                    #expect(response.object["rate_limited"] as? Int == 0)
                    #expect((response.object["by_credential"] as? [String: Any])?.isEmpty == true)
                }
                let byDefault = try await api.admin(.get, "/admin/agents/\(agent)/usage")
                #expect(byDefault.object["period"] as? String == "day")
            }
        }
    }
}

/// A response's quota object as `"N/period"`, `nil` when it is not one.
private func quotaText(_ value: Any?) -> String? {
    guard let object = value as? [String: Any], let requests = object["requests"] as? Int, let period = object["period"] as? String else {
        return nil
    }
    return "\(requests)/\(period)"
}
