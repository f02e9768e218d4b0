import AgentAuthCore
import AgentAuthHTTP
import AgentAuthSQLite
import AgentAuthServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Audit API")
struct AuditAPITests {
    @Test("admin changes, token issuance and failures are audited with actor, address and request id, never a secret")
    func auditTrail() async throws {
        try await TestEnvironment.with { env in
            try await env.test(clock: TestClock()) { api, components in
                let agent = try await api.createAgent("audited")
                let (keyID, key) = try await api.createKey(agent: agent, scopes: ["a"])
                _ = try await api.admin(.post, "/admin/keys/\(keyID)/revoke")
                let (clientID, secret) = try await api.createClient(agent: agent, json: #"{"scope":"a"}"#)
                _ = try await api.token(form: "grant_type=client_credentials", basic: (clientID, secret!))
                _ = try await api.token(form: "grant_type=client_credentials", basic: (clientID, "wrong"))
                _ = try await api.request(.get, "/admin/agents", key: SecretFormat.apiKey.generate())
                try await components.audit.flush(final: true)

                let response = try await api.admin(.get, "/admin/audit?agent_id=\(agent)")
                #expect(response.status == .ok)
                let events = try #require(response.object["events"] as? [[String: Any]])
                #expect(
                    events.compactMap { $0["type"] as? String } == [
                        "client_auth.failure", "token.issued", "client.created", "key.revoked", "key.created", "agent.created",
                    ],
                    "a failure of a registered client is about its agent too"
                )
                let created = try #require(events.last)
                #expect((created["details"] as? [String: String])?["actor_agent_id"] == env.adminAgentID)
                #expect(created["request_id"] is String)
                #expect(created["outcome"] as? String == "success")
                #expect(created["hash"] as? String != nil && created["previous_hash"] as? String != nil)
                let failures = try await api.admin(.get, "/admin/audit?type=client_auth.failure&since=1h")
                let failure = try #require((failures.object["events"] as? [[String: Any]])?.first)
                #expect(failure["credential_id"] as? String == clientID)
                #expect((failure["details"] as? [String: String])?["count"] == "1")
                let all = try await api.admin(.get, "/admin/audit?limit=1000")
                #expect(!all.text.contains(key) && !all.text.contains(secret!) && !all.text.contains(env.adminKey), "no secret in the audit log")
                #expect(try await api.admin(.get, "/admin/audit?since=soon").status == .badRequest)
                #expect(try await api.admin(.get, "/admin/audit?limit=0").status == .badRequest)
                #expect(AuditChain.verify(try await env.store.auditChain(), key: AuditChainKey(masterKey: env.masterKey)) == nil)
            }
        }
    }
}
