import AgentAuthCore
import AgentAuthTesting
import Foundation
import NIOHTTP1
import Testing

extension TimedProcessTests {
    /// Limits reaching separate resource-server processes (`example-agent-api`): a tier change
    /// within a second, and a fleet-wide quota, reported by two processes to one auth server, which
    /// pushes the used-up quota on the feed, stopping both within the stated overshoot.
    @Suite("Limits across resource-server processes", .serialized)
    struct LimitsAcrossProcessesTests {
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

        /// Polls the API until the key's answer carries `policy` (nil: no policy); how long that took.
        static func timeUntilPolicy(_ api: String, key: String, is policy: String?, since start: ContinuousClock.Instant) async throws -> Duration {
            while ContinuousClock.now - start < .seconds(5) {
                let answer = try await HTTP.send(.GET, "\(api)/v1/conversations", headers: [("X-API-Key", key)])
                if answer.headers.first(name: "RateLimit-Policy") == policy { return ContinuousClock.now - start }
                try await Task.sleep(for: .milliseconds(10))
            }
            return .seconds(999)
        }

        @Test("a tier defined, assigned, changed and removed through the admin API reaches a separate resource server within 1 s")
        func tierChangeWithinASecond() async throws {
            try await withTemporaryDirectory { directory in
                let started = try await AuthServerProcess.start(in: directory)
                let server = started.process
                defer { server.stop() }
                let (auth, admin) = (started.base, started.admin)
                let example = try await ExampleAPIProcess.start(authServer: auth, admin: admin, in: directory)
                defer { example.process.stop() }
                let agent = try #require(
                    try await HTTP.send(.POST, "\(auth)/admin/agents", headers: admin, body: #"{"name":"tiered"}"#).json["id"] as? String
                )
                let created = try await HTTP.send(
                    .POST,
                    "\(auth)/admin/agents/\(agent)/keys",
                    headers: admin,
                    body: #"{"scopes":["conversations:read"]}"#
                )
                let key = try #require(created.json["key"] as? String)
                let keyID = try #require(created.json["id"] as? String)
                #expect(try await Self.timeUntilPolicy(example.base, key: key, is: nil, since: .now) < .seconds(1))

                let defined = try await HTTP.send(
                    .PUT,
                    "\(auth)/admin/rate-limits/gold",
                    headers: admin,
                    body: #"{"requests":1000,"window_seconds":60}"#
                )
                #expect(defined.status == 200, "\(defined.body)")
                let assignStart = ContinuousClock.now
                let assigned = try await HTTP.send(.PATCH, "\(auth)/admin/keys/\(keyID)", headers: admin, body: #"{"rate_limit":"gold"}"#)
                #expect(assigned.status == 200, "\(assigned.body)")
                let assignedAfter = try await Self.timeUntilPolicy(example.base, key: key, is: #""gold";q=1000;w=60"#, since: assignStart)
                #expect(assignedAfter < .seconds(1), "an assigned tier applied after \(assignedAfter)")

                let changeStart = ContinuousClock.now
                _ = try await HTTP.send(.PUT, "\(auth)/admin/rate-limits/gold", headers: admin, body: #"{"requests":5,"window_seconds":60}"#)
                let changedAfter = try await Self.timeUntilPolicy(example.base, key: key, is: #""gold";q=5;w=60"#, since: changeStart)
                #expect(changedAfter < .seconds(1), "a changed tier applied after \(changedAfter)")

                let removeStart = ContinuousClock.now
                _ = try await HTTP.send(.PATCH, "\(auth)/admin/keys/\(keyID)", headers: admin, body: #"{"rate_limit":null}"#)
                let removedAfter = try await Self.timeUntilPolicy(example.base, key: key, is: nil, since: removeStart)
                #expect(removedAfter < .seconds(1), "a removed tier gone after \(removedAfter)")
            }
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
