import AgentAuthCore
import AgentAuthHTTP
import AgentAuthMiddleware
import AgentAuthSQLite
import AgentAuthServer
import AgentAuthTesting
import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// Rate limits and quotas at a resource server, against a real auth server on a real socket:
/// first the middleware on a clock moved by hand (exact headers, refill, which tiers apply), then
/// `ResourceServerMiddleware` as a resource server runs it (tier changes arriving through the
/// feed, usage reported to the auth server, a used-up quota).
@Suite("Resource-server middleware: rate limits and quotas")
struct RateLimitTests {
    final class HandClock: Sendable {
        let seconds = Mutex<Double>(0)
        func advance(_ by: Double) { seconds.withLock { $0 += by } }
        var now: @Sendable () -> Double { { self.seconds.withLock { $0 } } }
    }

    struct Fixture: Sendable {
        let server: TestAuthServer
        let auth: String
        let introspectionKey: String
        var store: SQLiteStore { server.store }

        /// A new agent and an API key of it with `scopes`, optionally with tiers.
        func agentWithKey(
            agentTier: String? = nil,
            keyTier: String? = nil,
            keyQuota: Quota? = nil,
            scopes: [String] = ["conversations:read"]
        )
            async throws -> (agent: Agent, key: IssuedAPIKey)
        {
            var agent = try await AgentAdministration(store: store).createAgent(name: "worker", by: .test)
            if let agentTier {
                agent.rateLimit = agentTier
                agent = try #require(try await store.updateAgent(agent, at: Date(), audit: nil))
            }
            let key = try await addKey(to: agent, tier: keyTier, quota: keyQuota, scopes: scopes)
            return (agent, key)
        }

        func addKey(to agent: Agent, tier: String? = nil, quota: Quota? = nil, scopes: [String] = ["conversations:read"]) async throws -> IssuedAPIKey
        {
            var key = try await APIKeyAdministration(store: store).createAPIKey(agentID: agent.id, APIKeyRequest(scopes: scopes), by: .test)
            if tier != nil || quota != nil {
                var record = key.record
                record.rateLimit = tier
                record.quota = quota
                key.record = try #require(try await store.updateAPIKey(record, at: Date(), audit: nil))
            }
            return key
        }

        func tier(_ name: String, requests: Int, window: Int, burst: Int? = nil) async throws {
            _ = try await store.putRateLimitTier(RateLimitTier(name: name, requests: requests, windowSeconds: window, burst: burst), audit: nil)
        }
    }

    static func withAuthServer(_ body: @Sendable (Fixture) async throws -> Void) async throws {
        try await TestAuthServer.with { server in
            let introspectionKey = try await server.introspectionKey(agentName: "resource server")
            try await server.serve { auth in
                try await body(Fixture(server: server, auth: auth.url, introspectionKey: introspectionKey))
            }
        }
    }

    /// The example API's two routes behind the authenticator and the rate-limit middleware, with
    /// the limits fetched once from the auth server and GCRA on `clock`.
    static func handClockRouter(_ fixture: Fixture, clock: HandClock) async throws -> (Router<AgentAuthRequestContext>, LimitsFollower) {
        let follower = LimitsFollower(authServer: fixture.auth, credential: fixture.introspectionKey)
        try await follower.fetch()
        let limiter = RequestLimiter(state: follower.state, rates: RateLimiter(now: clock.now))
        let router = Router(context: AgentAuthRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())
        let protected = router.group("v1")
            .add(
                middleware: ResourceAuthenticator(
                    introspection: IntrospectionClient(authServer: fixture.auth, introspectionKey: fixture.introspectionKey)
                )
            )
            .add(middleware: RateLimitMiddleware(limiter: limiter, usage: UsageCounter()))
        protected.group("conversations").add(middleware: RequireScope(Scope("conversations:read")!)).get { _, _ in ["ok": true] }
        protected.group("billing").add(middleware: RequireScope(Scope("billing:read")!)).get { _, _ in ["ok": true] }
        return (router, follower)
    }

    static func get(_ client: any TestClientProtocol, _ path: String = "/v1/conversations", key: String) async throws -> TestResponse {
        try await client.executeRequest(uri: path, method: .get, headers: [.apiKey: key], body: nil)
    }

    static func error(_ response: TestResponse) -> String? {
        ((try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any])?["error"] as? String
    }

    @Test("a burst passes up to the limit, the next is 429 with exact headers, and capacity returns at the stated rate")
    func burstAndRefill() async throws {
        try await Self.withAuthServer { fixture in
            try await fixture.tier("gold", requests: 3, window: 60)
            let (_, key) = try await fixture.agentWithKey(keyTier: "gold")
            let clock = HandClock()
            let (router, _) = try await Self.handClockRouter(fixture, clock: clock)
            try await Application(router: router).test(.router) { client in
                for (remaining, reset) in [(2, 20), (1, 40), (0, 60)] {
                    let ok = try await Self.get(client, key: key.plaintext)
                    #expect(ok.status == .ok)
                    #expect(ok.headers[.rateLimitPolicy] == #""gold";q=3;w=60"#)
                    #expect(ok.headers[.rateLimit] == #""gold";r=\#(remaining);t=\#(reset)"#)
                }
                let refused = try await Self.get(client, key: key.plaintext)
                #expect(refused.status == .tooManyRequests)
                #expect(refused.headers[.retryAfter] == "20")
                #expect(refused.headers[.rateLimitPolicy] == #""gold";q=3;w=60"#)
                #expect(refused.headers[.rateLimit] == #""gold";r=0;t=60"#)
                #expect(Self.error(refused) == "rate_limited")
                clock.advance(19)
                #expect(try await Self.get(client, key: key.plaintext).status == .tooManyRequests, "19 s earn nothing")
                clock.advance(1)
                let again = try await Self.get(client, key: key.plaintext)
                #expect(again.status == .ok, "20 s earn one request")
                #expect(again.headers[.rateLimit] == #""gold";r=0;t=60"#)
                #expect(try await Self.get(client, key: key.plaintext).status == .tooManyRequests)
                clock.advance(60)
                #expect(try await Self.get(client, key: key.plaintext).headers[.rateLimit] == #""gold";r=2;t=20"#, "a minute refills the burst")
            }
        }
    }

    @Test("a 403 carries the headers too; a request without a credential has none")
    func headersOnEveryAuthenticatedAnswer() async throws {
        try await Self.withAuthServer { fixture in
            try await fixture.tier("gold", requests: 3, window: 60)
            let (_, key) = try await fixture.agentWithKey(keyTier: "gold")
            let (router, _) = try await Self.handClockRouter(fixture, clock: HandClock())
            try await Application(router: router).test(.router) { client in
                let forbidden = try await Self.get(client, "/v1/billing", key: key.plaintext)
                #expect(forbidden.status == .forbidden)
                #expect(Self.error(forbidden) == "insufficient_scope")
                #expect(forbidden.headers[.rateLimitPolicy] == #""gold";q=3;w=60"#)
                #expect(forbidden.headers[.rateLimit] == #""gold";r=2;t=20"#)
                let anonymous = try await client.executeRequest(uri: "/v1/conversations", method: .get, headers: [:], body: nil)
                #expect(anonymous.status == .unauthorized)
                #expect(anonymous.headers[.rateLimitPolicy] == nil)
            }
        }
    }

    @Test("an agent's tier limits it across its keys, a key's tier that key; another agent is unaffected")
    func agentTierAndKeyTier() async throws {
        try await Self.withAuthServer { fixture in
            try await fixture.tier("agent-five", requests: 5, window: 60)
            try await fixture.tier("key-three", requests: 3, window: 60)
            let (agent, limitedKey) = try await fixture.agentWithKey(agentTier: "agent-five", keyTier: "key-three")
            let otherKey = try await fixture.addKey(to: agent)
            let (_, stranger) = try await fixture.agentWithKey(agentTier: "agent-five")
            let (router, _) = try await Self.handClockRouter(fixture, clock: HandClock())
            try await Application(router: router).test(.router) { client in
                for _ in 0..<3 {
                    let ok = try await Self.get(client, key: limitedKey.plaintext)
                    #expect(ok.status == .ok)
                    #expect(ok.headers[.rateLimitPolicy] == #""agent-five";q=5;w=60, "key-three";q=3;w=60"#)
                }
                let keyRefused = try await Self.get(client, key: limitedKey.plaintext)
                #expect(keyRefused.status == .tooManyRequests, "the key's own tier")
                #expect(keyRefused.headers[.rateLimit] == #""agent-five";r=2;t=36, "key-three";r=0;t=60"#)
                for _ in 0..<2 { #expect(try await Self.get(client, key: otherKey.plaintext).status == .ok) }
                let agentRefused = try await Self.get(client, key: otherKey.plaintext)
                #expect(agentRefused.status == .tooManyRequests, "the agent's tier across its keys")
                #expect(agentRefused.headers[.rateLimitPolicy] == #""agent-five";q=5;w=60"#)
                for _ in 0..<5 { #expect(try await Self.get(client, key: stranger.plaintext).status == .ok, "another agent is not slowed") }
            }
        }
    }

    @Test("the same tier on the agent and its key is one item in the fields, reporting the tighter of the two")
    func sameTierOnAgentAndKey() async throws {
        try await Self.withAuthServer { fixture in
            try await fixture.tier("shared-four", requests: 4, window: 60)
            let (agent, key) = try await fixture.agentWithKey(agentTier: "shared-four", keyTier: "shared-four")
            let otherKey = try await fixture.addKey(to: agent)
            let (router, _) = try await Self.handClockRouter(fixture, clock: HandClock())
            try await Application(router: router).test(.router) { client in
                #expect(try await Self.get(client, key: otherKey.plaintext).status == .ok, "the agent's state: 3 left")
                let first = try await Self.get(client, key: key.plaintext)
                #expect(first.status == .ok)
                #expect(first.headers[.rateLimitPolicy] == #""shared-four";q=4;w=60"#)
                #expect(first.headers[.rateLimit] == #""shared-four";r=2;t=30"#, "the agent's 2 left, not the key's 3")
                for _ in 0..<2 { #expect(try await Self.get(client, key: key.plaintext).status == .ok) }
                let refused = try await Self.get(client, key: key.plaintext)
                #expect(refused.status == .tooManyRequests)
                #expect(refused.headers[.rateLimit] == #""shared-four";r=0;t=60"#)
            }
        }
    }

    // MARK: The whole resource server

    /// `ResourceServerMiddleware` with its services (feed, limits, usage reports), on loopback.
    static func withResourceServer(_ fixture: Fixture, _ body: (String) async throws -> Void) async throws {
        let configuration = ResourceServerConfiguration(authServer: fixture.auth, introspectionKey: fixture.introspectionKey)
        let agentAuth = ResourceServerMiddleware<AgentAuthRequestContext>(configuration: configuration, logger: TestAuthServer.quietLogger)
        let router = Router(context: AgentAuthRequestContext.self)
        router.add(middleware: agentAuth)
        router.group("v1/conversations").add(middleware: RequireScope(Scope("conversations:read")!)).get { _, _ in ["ok": true] }
        try await LoopbackServer.run { port, onRunning in
            Application(
                router: router,
                server: configuration.httpServer,
                configuration: .init(address: .hostname("127.0.0.1", port: port)),
                services: [agentAuth],
                onServerRunning: onRunning,
                logger: TestAuthServer.quietLogger
            )
        } _: { port in
            let deadline = ContinuousClock.now + .seconds(10)
            while !agentAuth.isReady || !agentAuth.limits.state.isLoaded {
                guard ContinuousClock.now < deadline else { throw TestFailure("the resource server never synchronised") }
                try await Task.sleep(for: .milliseconds(20))
            }
            try await body("http://127.0.0.1:\(port)/v1/conversations")
        }
    }

    static func get(_ url: String, headers: [(String, String)]) async throws -> (status: Int, headers: HTTPHeaders, body: String) {
        var request = HTTPClientRequest(url: url)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), response.headers, String(buffer: body))
    }

    static func clientToken(_ fixture: Fixture, agent: Agent, tier: String?) async throws -> (client: OAuthClient, token: String) {
        let issued = try await ClientAdministration(store: fixture.store, defaultAudience: "agentauth").createClient(
            agentID: agent.id,
            ClientRequest(scope: "conversations:read"),
            by: .test
        )
        var client = issued.client
        if let tier {
            client.rateLimit = tier
            client = try #require(try await fixture.store.updateClient(client, at: Date(), audit: nil))
        }
        let answer = try await HTTPTestClient.post(
            fixture.auth + "/oauth/token",
            form: "grant_type=client_credentials",
            basic: (client.clientID, try #require(issued.secret))
        )
        return (client, try #require(answer.json["access_token"] as? String, "\(answer.body)"))
    }

    /// Polls until `condition` holds (at most 20 s: this suite shares the machine with the whole
    /// test run; the one-second bound is measured by the serialized process tests,
    /// `LimitsAcrossProcessesTests`).
    static func eventually(_ what: Comment, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("never: \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test("a tier assigned, changed or removed reaches a running resource server through the feed, for keys and tokens")
    func tierChangeReachesVerifier() async throws {
        try await Self.withAuthServer { fixture in
            let (agent, key) = try await fixture.agentWithKey()
            let (client, token) = try await Self.clientToken(fixture, agent: agent, tier: nil)
            try await Self.withResourceServer(fixture) { url in
                let keyHeaders = [("X-API-Key", key.plaintext)]
                let tokenHeaders = [("Authorization", "Bearer \(token)")]
                #expect(try await Self.get(url, headers: keyHeaders).headers["RateLimit-Policy"].isEmpty)

                try await fixture.tier("silver", requests: 1000, window: 60)
                var record = key.record
                record.rateLimit = "silver"
                _ = try await fixture.store.updateAPIKey(record, at: Date(), audit: nil)
                var tokenClient = client
                tokenClient.rateLimit = "silver"
                _ = try await fixture.store.updateClient(tokenClient, at: Date(), audit: nil)
                try await Self.eventually("the key's tier arrives") {
                    try await Self.get(url, headers: keyHeaders).headers["RateLimit-Policy"] == [#""silver";q=1000;w=60"#]
                }
                #expect(try await Self.get(url, headers: tokenHeaders).headers["RateLimit-Policy"] == [#""silver";q=1000;w=60"#])

                try await fixture.tier("silver", requests: 2, window: 60)
                try await Self.eventually("a changed tier arrives") {
                    try await Self.get(url, headers: tokenHeaders).headers["RateLimit-Policy"] == [#""silver";q=2;w=60"#]
                }
                record.rateLimit = nil
                _ = try await fixture.store.updateAPIKey(record, at: Date(), audit: nil)
                try await Self.eventually("a removed tier is gone") {
                    try await Self.get(url, headers: keyHeaders).headers["RateLimit-Policy"].isEmpty
                }
            }
        }
    }

    @Test("usage reaches the auth server within seconds, and its totals match the requests made")
    func usageTotals() async throws {
        try await Self.withAuthServer { fixture in
            try await fixture.tier("two", requests: 2, window: 3600)
            let (agent, key) = try await fixture.agentWithKey()
            let limitedKey = try await fixture.addKey(to: agent, tier: "two")
            let (client, token) = try await Self.clientToken(fixture, agent: agent, tier: nil)
            try await Self.withResourceServer(fixture) { url in
                for _ in 0..<7 { #expect(try await Self.get(url, headers: [("X-API-Key", key.plaintext)]).status == 200) }
                var statuses: [Int] = []
                for _ in 0..<5 { statuses.append(try await Self.get(url, headers: [("X-API-Key", limitedKey.plaintext)]).status) }
                #expect(statuses == [200, 200, 429, 429, 429])
                for _ in 0..<3 { #expect(try await Self.get(url, headers: [("Authorization", "Bearer \(token)")]).status == 200) }
                let since = Quota.Period.day.start(of: Date())
                let deadline = ContinuousClock.now + .seconds(20)
                var usage = try await fixture.store.usage(agentID: agent.id, since: since)
                while usage.requests + usage.rateLimited < 15, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                    usage = try await fixture.store.usage(agentID: agent.id, since: since)
                }
                #expect(usage.requests == 12)
                #expect(usage.rateLimited == 3)
                #expect(usage.byCredential == [key.record.id: 7, limitedKey.record.id: 2, client.clientID: 3])
            }
        }
    }

    @Test("a used-up key quota answers 429 until the period ends")
    func quotaStopsTheKey() async throws {
        try await Self.withAuthServer { fixture in
            try await fixture.tier("roomy", requests: 6000, window: 60)
            let (_, key) = try await fixture.agentWithKey(agentTier: "roomy", keyQuota: Quota(requests: 20, period: .day))
            try await Self.withResourceServer(fixture) { url in
                var served = 0
                let start = ContinuousClock.now
                var refusal: (status: Int, headers: HTTPHeaders, body: String)?
                while ContinuousClock.now - start < .seconds(20) {
                    let answer = try await Self.get(url, headers: [("X-API-Key", key.plaintext)])
                    if answer.status == 429 {
                        refusal = answer
                        break
                    }
                    #expect(answer.status == 200)
                    served += 1
                }
                let answer = try #require(refusal, "the quota never stopped the key")
                // How far past the quota it went depends on the machine: the serialized process test
                // (`LimitsAcrossProcessesTests`) holds it to the bound of docs/rate-limits.md.
                #expect(served >= 20, "the quota is not cut short")
                let retryAfter = try #require(answer.headers["Retry-After"].first.flatMap(Int.init))
                let untilEnd = Quota.Period.day.end(of: Date()).timeIntervalSinceNow
                #expect(abs(Double(retryAfter) - untilEnd) <= 2, "Retry-After \(retryAfter) is the time until the day ends (\(untilEnd))")
                #expect(answer.body.contains(#""error":"rate_limited""#))
                #expect(
                    answer.headers["RateLimit-Policy"] == [#""roomy";q=6000;w=60, "quota:day";q=20;w=86400"#],
                    "the agent's tier (not charged) and the used-up quota"
                )
                let state = try #require(answer.headers["RateLimit"].first)
                #expect(state.hasPrefix(#""roomy";r="#) && state.hasSuffix(#", "quota:day";r=0;t=\#(retryAfter)"#), "\(state)")
                #expect(try await Self.get(url, headers: [("X-API-Key", key.plaintext)]).status == 429, "and stays refused")
            }
        }
    }

    /// Passes everything to the auth server, but answers the first usage report with a 503 after
    /// the server has counted it: the answer is lost, the count is not.
    struct FirstReportAnswerLost<Inner: HTTPResponder>: HTTPResponder {
        typealias Context = Inner.Context
        final class Flag: Sendable {
            let raised = Atomic<Bool>(false)
        }

        let inner: Inner
        let lost = Flag()

        func respond(to request: Request, context: Context) async throws -> Response {
            let response = try await inner.respond(to: request, context: context)
            guard request.uri.path == "/oauth/usage", !lost.raised.exchange(true, ordering: .relaxed) else { return response }
            return Response(status: .serviceUnavailable)
        }
    }

    @Test("a report whose answer was lost is sent again with the same batch id and counted once")
    func retriedReportCountedOnce() async throws {
        try await TestAuthServer.with { server in
            let introspectionKey = try await server.introspectionKey(agentName: "resource server")
            let agent = try await AgentAdministration(store: server.store).createAgent(name: "worker", by: .test)
            let key = try await APIKeyAdministration(store: server.store).createAPIKey(agentID: agent.id, APIKeyRequest(scopes: ["a"]), by: .test)
            let subject = LimitSubject(agentID: agent.id, credential: .apiKey(key.record.id))
            try await server.serve(wrap: { FirstReportAnswerLost(inner: $0) }) { auth in
                let reporter = UsageReporter(authServer: auth.url, credential: introspectionKey)
                for _ in 0..<5 { reporter.counter.count(subject, limited: false) }
                await #expect(throws: (any Error).self) { try await reporter.report() }
                #expect(reporter.pendingBatches == 1, "the batch waits to be sent again")
                let since = Quota.Period.hour.start(of: Date())
                #expect(try await server.store.usage(agentID: agent.id, since: since).requests == 5, "the server had counted it")
                reporter.counter.count(subject, limited: true)
                try await reporter.report()
                #expect(reporter.pendingBatches == 0)
                let usage = try await server.store.usage(agentID: agent.id, since: since)
                #expect(usage.requests == 5, "the resent batch was not counted again")
                #expect(usage.rateLimited == 1, "later counts followed it in a batch of their own")
            }
        }
    }

    @Test("counts are cut into reports that fit the auth server's body limit, however long the ids, and all are counted")
    func longIdsFitTheBodyLimit() async throws {
        try await TestAuthServer.with { server in
            let introspectionKey = try await server.introspectionKey(agentName: "resource server")
            let agent = try await AgentAdministration(store: server.store).createAgent(name: "worker", by: .test)
            let clients = ClientAdministration(store: server.store, defaultAudience: "agentauth")
            let reporter = try await server.serve { auth in
                let reporter = UsageReporter(authServer: auth.url, credential: introspectionKey)
                // 300 clients with 128-character ids: about 90 KiB of counts in all.
                for index in 0..<300 {
                    let id = "com.example.agents." + String(repeating: "x", count: 105) + String(format: "%04d", index)
                    let client = try await clients.createClient(agentID: agent.id, ClientRequest(clientID: id, scope: "a"), by: .test).client
                    for _ in 0...(index % 3) {
                        reporter.counter.count(LimitSubject(agentID: agent.id, credential: .client(client.clientID)), limited: false)
                    }
                }
                try await reporter.report()
                return reporter
            }
            #expect(reporter.pendingBatches == 0)
            let usage = try await server.store.usage(agentID: agent.id, since: Quota.Period.hour.start(of: Date()))
            #expect(usage.requests == (0..<300).map { $0 % 3 + 1 }.reduce(0, +))
            #expect(usage.byCredential.count == 300)
        }
    }
}
