import AgentAuthCore
import AgentAuthHTTP
import AgentAuthSQLite
import AgentAuthTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import AgentAuthServer

/// The auth server's side of rate limits and quotas: the endpoints verifiers use
/// (`GET /oauth/limits`, `POST /oauth/usage`, authorised like the feed), reports counted once per
/// batch, a used-up quota pushed on the feed and audited, and per-client limits at `/oauth/token`.
@Suite("Rate limits and quotas at the auth server")
struct LimitsEndpointTests {
    static func report(batch: String = UUID().uuidString, agent: String, credential: String, requests: Int, rateLimited: Int = 0) -> String {
        #"{"batch_id":"\#(batch)","counts":[{"agent_id":"\#(agent)","credential_id":"\#(credential)","requests":\#(requests),"rate_limited":\#(rateLimited)}]}"#
    }

    @Test("only verifiers (introspect or admin) may read limits or report usage")
    func authorisation() async throws {
        try await TestEnvironment.with { env in
            let introspector = try await env.server.introspectionKey()
            try await env.test { api in
                let agent = try await api.createAgent()
                let (_, plain) = try await api.createKey(agent: agent, scopes: ["conversations:read"])
                #expect(try await api.request(.get, "/oauth/limits").status == .unauthorized)
                #expect(try await api.request(.get, "/oauth/limits", key: plain).status == .forbidden)
                let limits = try await api.request(.get, "/oauth/limits", key: introspector)
                #expect(limits.status == .ok)
                #expect(limits.headers[.cacheControl] == "no-store")
                let tiers = try #require(limits.object["tiers"] as? [String: Any])
                #expect(Set(tiers.keys).isSuperset(of: ["low", "standard", "high"]), "the built-in tiers")
                let body = Self.report(agent: agent, credential: "key_x", requests: 1)
                #expect(try await api.request(.post, "/oauth/usage", json: body).status == .unauthorized)
                #expect(try await api.request(.post, "/oauth/usage", key: plain, json: body).status == .forbidden)
                #expect(try await api.request(.post, "/oauth/usage", key: introspector, json: body).status == .ok)
                #expect(try await api.request(.get, "/oauth/usage", key: introspector).status == .methodNotAllowed)
            }
        }
    }

    @Test(
        "malformed usage reports get 400, never a count",
        arguments: [
            #"not json"#,
            #"{"counts":[]}"#,
            #"{"batch_id":"","counts":[]}"#,
            #"{"batch_id":"b","counts":[{"agent_id":"a","credential_id":"c","requests":-1,"rate_limited":0}]}"#,
            #"{"batch_id":"b","counts":[{"agent_id":"","credential_id":"c","requests":1,"rate_limited":0}]}"#,
            #"{"batch_id":"has space","counts":[]}"#,
        ]
    )
    func malformedReports(_ body: String) async throws {
        try await TestEnvironment.with { env in
            let introspector = try await env.server.introspectionKey()
            try await env.test { api in
                let answer = try await api.request(.post, "/oauth/usage", key: introspector, json: body)
                #expect(answer.status == .badRequest, "\(body)")
                #expect(answer.object["error"] as? String == "invalid_request")
            }
        }
    }

    @Test("a report over the size bound is refused whole")
    func tooManyCounts() async throws {
        try await TestEnvironment.with { env in
            let introspector = try await env.server.introspectionKey()
            try await env.test { api in
                let counts = (0...UsageReport.maxCounts).map { #"{"agent_id":"a","credential_id":"c\#($0)","requests":1,"rate_limited":0}"# }
                let body = #"{"batch_id":"big","counts":[\#(counts.joined(separator: ","))]}"#
                let answer = try await api.request(.post, "/oauth/usage", key: introspector, json: body)
                #expect(answer.status.code == 400 || answer.status.code == 413)
            }
        }
    }

    @Test("a report sent twice is counted once; a used-up quota is pushed on the feed and audited")
    func idempotentReportsAndExhaustion() async throws {
        try await TestEnvironment.with { env in
            let introspector = try await env.server.introspectionKey()
            let components = env.server.components(env.configuration())
            try await env.test(components: components) { api, components in
                let agentID = try await api.createAgent()
                var agent = try #require(try await env.store.agent(id: agentID))
                agent.quota = Quota(requests: 10, period: .day)
                _ = try await env.store.updateAgent(agent, at: Date(), audit: nil)
                let (keyID, _) = try await api.createKey(agent: agentID, scopes: ["conversations:read"])

                let first = Self.report(batch: "batch-1", agent: agentID, credential: keyID, requests: 6, rateLimited: 1)
                let counted = try await api.request(.post, "/oauth/usage", key: introspector, json: first)
                #expect(counted.object["counted"] as? Bool == true)
                let again = try await api.request(.post, "/oauth/usage", key: introspector, json: first)
                #expect(again.status == .ok)
                #expect(again.object["counted"] as? Bool == false, "the same batch is not counted twice")
                let since = Quota.Period.day.start(of: Date())
                var usage = try await env.store.usage(agentID: agentID, since: since)
                #expect(usage.requests == 6 && usage.rateLimited == 1)

                let cursor = try await env.store.revocationBounds().latest
                let second = Self.report(batch: "batch-2", agent: agentID, credential: keyID, requests: 4)
                #expect(try await api.request(.post, "/oauth/usage", key: introspector, json: second).object["counted"] as? Bool == true)
                usage = try await env.store.usage(agentID: agentID, since: since)
                #expect(usage.requests == 10)
                let events = try await env.store.revocations(after: cursor, limit: 100)
                let pushed = try #require(events.first { $0.kind == .quota }, "the used-up quota is on the feed")
                #expect(pushed.subject == agentID)
                #expect(pushed.expiresAt == Quota.Period.day.end(of: Date()))

                // No background services here: the node learns of the event by its sync, as it would within 100 ms.
                try await components.revocationSync.sync()
                let feed = try await api.request(.get, "/oauth/revocations?after=\(cursor)&wait=0", key: introspector)
                let types = (feed.object["events"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String }
                #expect(types.contains("quota"))

                let limits = try await api.request(.get, "/oauth/limits", key: introspector)
                let exhausted = limits.object["exhausted"] as? [[String: Any]] ?? []
                #expect(exhausted.contains { $0["subject"] as? String == agentID })

                try await components.audit.flush()
                let audited = try await env.store.auditEvents(AuditFilter(agentID: agentID, type: .quotaExhausted))
                #expect(audited.count == 1)
                #expect(audited.first?.details["quota"] == "10")
            }
        }
    }

    @Test("counts for another agent's key, or for ids that don't exist, are dropped; the rest is counted")
    func countsOnlyForOwnCredentials() async throws {
        try await TestEnvironment.with { env in
            let introspector = try await env.server.introspectionKey()
            try await env.test { api in
                let victim = try await api.createAgent("victim")
                let (victimKey, _) = try await api.createKey(agent: victim, scopes: ["conversations:read"])
                let other = try await api.createAgent("other")
                let (otherKey, _) = try await api.createKey(agent: other, scopes: ["conversations:read"])
                let body = """
                    {"batch_id":"mixed","counts":[\
                    {"agent_id":"\(victim)","credential_id":"\(otherKey)","requests":1000,"rate_limited":0},\
                    {"agent_id":"\(victim)","credential_id":"key_doesnotexist0000000","requests":1000,"rate_limited":0},\
                    {"agent_id":"agt_doesnotexist0000000","credential_id":"\(victimKey)","requests":1000,"rate_limited":0},\
                    {"agent_id":"\(victim)","credential_id":"\(victimKey)","requests":3,"rate_limited":0}]}
                    """
                let answer = try await api.request(.post, "/oauth/usage", key: introspector, json: body)
                #expect(answer.status == .ok)
                let since = Quota.Period.day.start(of: Date())
                #expect(try await env.store.usage(agentID: victim, since: since).byCredential == [victimKey: 3])
                #expect(try await env.store.usage(agentID: other, since: since).requests == 0)
            }
        }
    }

    @Test("/oauth/token is limited per client: 429 with Retry-After and the headers; another client is unaffected")
    func tokenEndpointPerClient() async throws {
        try await TestEnvironment.with { env in
            _ = try await env.store.putRateLimitTier(RateLimitTier(name: "two-a-minute", requests: 2, windowSeconds: 60), audit: nil)
            let components = env.server.components(env.configuration())
            try await env.test(components: components) { api, components in
                let agent = try await api.createAgent()
                let (limitedID, limitedSecret) = try await api.createClient(agent: agent, json: #"{"scope":"conversations:read"}"#)
                let (otherID, otherSecret) = try await api.createClient(agent: agent, json: #"{"scope":"conversations:read"}"#)
                var client = try #require(try await env.store.client(id: limitedID))
                client.rateLimit = "two-a-minute"
                _ = try await env.store.updateClient(client, at: Date(), audit: nil)
                try await components.revocationSync.sync()

                let firstRequest = ContinuousClock.now
                for remaining in [1, 0] {
                    let issued = try await api.token(form: "grant_type=client_credentials", basic: (limitedID, limitedSecret ?? ""))
                    #expect(issued.status == .ok)
                    #expect(issued.headers[.rateLimitPolicy] == #""two-a-minute";q=2;w=60"#)
                    let standing = issued.headers[.rateLimit] ?? ""
                    #expect(standing.hasPrefix(#""two-a-minute";r=\#(remaining);t="#), "\(standing)")
                }
                let refused = try await api.token(form: "grant_type=client_credentials", basic: (limitedID, limitedSecret ?? ""))
                #expect(refused.status == .tooManyRequests)
                #expect(refused.object["error"] as? String == "rate_limited")
                // The wait is 30 s from the first request (two a minute: one every 30 s), less the
                // time the three requests took on a loaded machine.
                let elapsed = Int((ContinuousClock.now - firstRequest) / .seconds(1))
                let retryAfter = try #require(refused.headers[.retryAfter].flatMap { Int($0) })
                #expect((29 - elapsed)...30 ~= retryAfter, "Retry-After \(retryAfter) after \(elapsed) s")
                #expect(refused.headers[.rateLimit]?.hasPrefix(#""two-a-minute";r=0;t="#) == true)
                let other = try await api.token(form: "grant_type=client_credentials", basic: (otherID, otherSecret ?? ""))
                #expect(other.status == .ok)
                #expect(other.headers[.rateLimitPolicy] == nil, "a client without a tier has no policy")
                let wrongSecret = try await api.token(form: "grant_type=client_credentials", basic: (limitedID, "cs-agent-wrong"))
                #expect(wrongSecret.status == .unauthorized, "authentication comes first: a bad secret is never a 429")
            }
        }
    }
}
