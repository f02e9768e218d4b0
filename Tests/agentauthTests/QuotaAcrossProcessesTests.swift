import AgentAuthCore
import AgentAuthTesting
import Foundation
import NIOHTTP1
import Testing

extension TimedProcessTests {
    /// A quota is fleet-wide: two `example-agent-api` processes report usage to one auth server,
    /// which pushes the used-up quota on the feed, and both stop within the stated overshoot.
    @Suite("Quotas across resource-server processes", .serialized)
    struct QuotaAcrossProcessesTests {
        struct Run {
            var served = 0
            var refusals: [HTTP.Response] = []
            var seconds = 0.0
        }

        /// Sends `headers`' requests to each API in turn until every one of them has answered 429
        /// (at most 15 s); counts what was served.
        static func untilAllRefuse(_ apis: [String], headers: [(String, String)]) async throws -> Run {
            var run = Run()
            var refused = Set<Int>()
            let start = ContinuousClock.now
            while refused.count < apis.count, ContinuousClock.now - start < .seconds(15) {
                for (index, api) in apis.enumerated() where !refused.contains(index) {
                    let answer = try await HTTP.send(.GET, "\(api)/v1/conversations", headers: headers)
                    if answer.status == 429 {
                        refused.insert(index)
                        run.refusals.append(answer)
                    } else {
                        #expect(answer.status == 200, "\(answer.body)")
                        run.served += 1
                    }
                }
            }
            run.seconds = (ContinuousClock.now - start) / .seconds(1)
            return run
        }

        /// The bound of docs/rate-limits.md for one client loop: what the fleet serves in a report
        /// interval (1 s) plus the feed's delivery (well under 0.5 s), at the rate measured here.
        static func expectWithinOvershoot(_ run: Run, quota: Int) {
            let rate = Double(run.served) / run.seconds
            #expect(run.served >= quota, "the quota is not cut short: served \(run.served)")
            #expect(Double(run.served - quota) <= rate * 1.5 + 2, "served \(run.served) of \(quota) at \(Int(rate)) req/s")
            for refusal in run.refusals {
                #expect(refusal.json["error"] as? String == "rate_limited")
                let retryAfter = refusal.headers.first(name: "Retry-After").flatMap(Int.init) ?? 0
                let untilEnd = Quota.Period.day.end(of: Date()).timeIntervalSinceNow
                #expect(abs(Double(retryAfter) - untilEnd) <= 3, "Retry-After \(retryAfter) is the time to the period's end (\(untilEnd))")
            }
        }

        static func usage(_ auth: String, agent: String, admin: [(String, String)]) async throws -> HTTP.Response {
            try await HTTP.send(.GET, "\(auth)/admin/agents/\(agent)/usage?period=day", headers: admin)
        }

        @Test("a key's quota and an agent's quota, shared by two resource servers, stop both within the overshoot; usage matches")
        func sharedQuota() async throws {
            try await withTemporaryDirectory { directory in
                let started = try await AuthServerProcess.start(in: directory)
                let server = started.process
                defer { server.stop() }
                let (auth, admin) = (started.base, started.admin)
                let first = try await ExampleAPIProcess.start(authServer: auth, admin: admin, in: directory)
                defer { first.process.stop() }
                let second = try await ExampleAPIProcess.start(authServer: auth, admin: admin, in: directory)
                defer { second.process.stop() }
                let apis = [first.base, second.base]

                // A key's quota, through API keys.
                let keyAgent = try #require(
                    try await HTTP.send(.POST, "\(auth)/admin/agents", headers: admin, body: #"{"name":"key-quota"}"#).json["id"] as? String
                )
                let key = try await HTTP.send(
                    .POST,
                    "\(auth)/admin/agents/\(keyAgent)/keys",
                    headers: admin,
                    body: #"{"scopes":["conversations:read"],"quota":{"requests":40,"period":"day"}}"#
                )
                #expect(key.status == 201, "\(key.body)")
                let keyRun = try await Self.untilAllRefuse(apis, headers: [("X-API-Key", try #require(key.json["key"] as? String))])
                Self.expectWithinOvershoot(keyRun, quota: 40)

                // An agent's quota, through access tokens of one of its clients.
                let agentResponse = try await HTTP.send(
                    .POST,
                    "\(auth)/admin/agents",
                    headers: admin,
                    body: #"{"name":"agent-quota","quota":{"requests":60,"period":"day"}}"#
                )
                #expect(agentResponse.status == 201, "\(agentResponse.body)")
                let agent = try #require(agentResponse.json["id"] as? String)
                let client = try await HTTP.send(
                    .POST,
                    "\(auth)/admin/agents/\(agent)/clients",
                    headers: admin,
                    body: #"{"scope":"conversations:read"}"#
                )
                let token = try await HTTP.clientCredentialsToken(
                    auth,
                    clientID: try #require(client.json["client_id"] as? String),
                    secret: try #require(client.json["client_secret"] as? String)
                )
                let tokenRun = try await Self.untilAllRefuse(apis, headers: [("Authorization", "Bearer \(token)")])
                Self.expectWithinOvershoot(tokenRun, quota: 60)

                // The last reports arrive within a second; then the totals are what was sent.
                try await Task.sleep(for: .milliseconds(2500))
                let keyUsage = try await Self.usage(auth, agent: keyAgent, admin: admin)
                #expect(keyUsage.json["requests"] as? Int == keyRun.served, "\(keyUsage.body)")
                #expect(keyUsage.json["rate_limited"] as? Int == keyRun.refusals.count)
                let agentUsage = try await Self.usage(auth, agent: agent, admin: admin)
                #expect(agentUsage.json["requests"] as? Int == tokenRun.served, "\(agentUsage.body)")
                #expect(agentUsage.json["rate_limited"] as? Int == tokenRun.refusals.count)
                let byCredential = agentUsage.json["by_credential"] as? [String: Int]
                #expect(byCredential == [try #require(client.json["client_id"] as? String): tokenRun.served])

                // Still refused by both, and the exhaustion is in the audit log.
                for api in apis {
                    #expect(try await HTTP.send(.GET, "\(api)/v1/conversations", headers: [("Authorization", "Bearer \(token)")]).status == 429)
                }
                let audit = try await HTTP.send(.GET, "\(auth)/admin/audit?agent_id=\(agent)&type=quota.exhausted", headers: admin)
                #expect((audit.json["events"] as? [Any])?.count == 1, "\(audit.body)")
            }
        }
    }
}
