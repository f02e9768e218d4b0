import AgentAuthCore
import AgentAuthHTTP
import AgentAuthSQLite
import AgentAuthServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Disabling and deleting an OAuth client: it gets `invalid_client`, and the tokens it was
/// issued are refused by the server itself (introspection, the admin API).
@Suite("Admin API: client status")
struct ClientStatusTests {
    @Test("a disabled client gets invalid_client and its token is inactive; enabled, it gets tokens again, the old one stays dead")
    func disableAndEnable() async throws {
        try await TestEnvironment.with { env in
            let clock = TestClock()
            try await env.test(clock: clock) { api, components in
                let agent = try await api.createAgent()
                let (id, secret) = try await api.createClient(agent: agent, json: #"{"scope":"a"}"#)
                let issued = try await api.token(form: "grant_type=client_credentials", basic: (id, secret ?? ""))
                let token = try #require(issued.object["access_token"] as? String)
                #expect(try await api.introspect(token, as: env.adminKey).object["active"] as? Bool == true)

                let disabled = try await api.admin(.post, "/admin/clients/\(id)/disable")
                #expect(disabled.status == .ok)
                #expect(disabled.object["status"] as? String == "disabled")
                #expect(disabled.object["disabled_at"] is String)
                let refused = try await api.token(form: "grant_type=client_credentials", basic: (id, secret ?? ""))
                #expect(refused.status == .unauthorized)
                #expect(refused.errorCode == "invalid_client")
                #expect(try await api.introspect(token, as: env.adminKey).object["active"] as? Bool == false)

                clock.advance(2)
                let enabled = try await api.admin(.post, "/admin/clients/\(id)/enable")
                #expect(enabled.object["status"] as? String == "active")
                let again = try await api.token(form: "grant_type=client_credentials", basic: (id, secret ?? ""))
                #expect(again.status == .ok)
                let fresh = try #require(again.object["access_token"] as? String)
                #expect(try await api.introspect(fresh, as: env.adminKey).object["active"] as? Bool == true)
                #expect(try await api.introspect(token, as: env.adminKey).object["active"] as? Bool == false, "tokens from before stay dead")

                try await components.audit.flush(final: true)
                let failures = try await env.store.auditEvents(AuditFilter(type: .clientAuthenticationFailure, limit: 10))
                #expect(failures.first?.details["reason"] == "client_disabled")
                let events = try await env.store.auditEvents(AuditFilter(agentID: agent, limit: 100))
                let types = events.map(\.type)
                #expect(types.contains(.clientDisabled) && types.contains(.clientEnabled))
                #expect(events.filter { $0.type == .clientDisabled }.allSatisfy { $0.details["via"] == "api" && $0.credentialID == id })
            }
        }
    }

    @Test("a deleted client gets invalid_client; its token is inactive and no longer opens the admin API")
    func delete() async throws {
        try await TestEnvironment.with { env in
            try await env.test(clock: TestClock()) { api, _ in
                let (id, secret, token) = try await Self.adminClient(api, env: env)
                let bearer: HTTPFields = [.authorization: "Bearer \(token)"]
                #expect(try await api.request(.get, "/admin/agents", headers: bearer).status == .ok)

                let deleted = try await api.admin(.delete, "/admin/clients/\(id)")
                #expect(deleted.status == .noContent)
                #expect(try await api.admin(.get, "/admin/clients/\(id)").status == .notFound)
                #expect(try await api.admin(.delete, "/admin/clients/\(id)").status == .notFound)
                let refused = try await api.token(form: "grant_type=client_credentials", basic: (id, secret))
                #expect(refused.errorCode == "invalid_client")
                #expect(try await api.introspect(token, as: env.adminKey).object["active"] as? Bool == false)
                #expect(try await api.request(.get, "/admin/agents", headers: bearer).status == .unauthorized)

                let events = try await env.store.auditEvents(AuditFilter(type: .clientDeleted, limit: 10))
                #expect(events.count == 1 && events.first?.credentialID == id && events.first?.details["via"] == "api")
            }
        }
    }

    @Test("a disabled client's admin token no longer opens the admin API")
    func disabledAdminToken() async throws {
        try await TestEnvironment.with { env in
            try await env.test(clock: TestClock()) { api, _ in
                let (id, _, token) = try await Self.adminClient(api, env: env)
                let bearer: HTTPFields = [.authorization: "Bearer \(token)"]
                #expect(try await api.request(.get, "/admin/agents", headers: bearer).status == .ok)
                #expect(try await api.admin(.post, "/admin/clients/\(id)/disable").status == .ok)
                #expect(try await api.request(.get, "/admin/agents", headers: bearer).status == .unauthorized)
            }
        }
    }

    /// A client of the admin agent for the admin audience, and an `admin` token it was issued.
    static func adminClient(_ api: TestAPI, env: TestEnvironment) async throws -> (id: String, secret: String, token: String) {
        let (id, secret) = try await api.createClient(agent: env.adminAgentID, json: #"{"scope":"admin","audience":["\#(TestEnvironment.issuer)"]}"#)
        let issued = try await api.token(
            form: "grant_type=client_credentials&audience=\(formEncoded(TestEnvironment.issuer))",
            basic: (id, secret ?? "")
        )
        return (id, secret ?? "", try #require(issued.object["access_token"] as? String))
    }
}
