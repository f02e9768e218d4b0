import AgentAuthCore
import AgentAuthSQLite
import AgentAuthServer
import AgentAuthTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The verifier registry and confirmed revocation, in process, with verifiers played by the test
/// through the feed's own parameters (the middleware's follower is tested across processes).
@Suite("Verifier registry and confirmed revocation")
struct VerifierRegistryTests {
    /// A server whose revocations wait at most `timeout` for the verifiers.
    static func withServer(
        timeout: Duration = .milliseconds(600),
        now: @escaping @Sendable () -> Date = Date.init,
        _ body: @Sendable (TestAPI, TestEnvironment) async throws -> Void
    ) async throws {
        try await TestEnvironment.with { env in
            var configuration = env.configuration()
            configuration.revocationConfirmTimeout = timeout
            try await env.test(components: env.server.components(configuration, now: now)) { api, _ in
                try await body(api, env)
            }
        }
    }

    /// An `introspect` key for a verifier's agent.
    static func verifierKey(_ api: TestAPI) async throws -> (agent: String, key: String) {
        let agent = try await api.createAgent("verifier")
        return (agent, try await api.createKey(agent: agent, scopes: ["introspect"]).key)
    }

    /// One feed poll as verifier `id`; the page's cursor.
    @discardableResult
    static func poll(_ api: TestAPI, key: String, id: String, after: Int64, wait: Int = 0, bound: Int = 15_000) async throws -> Int64 {
        let response = try await api.request(
            .get,
            "/oauth/revocations?after=\(after)&wait=\(wait)&verifier=\(id)&verifier_name=host-\(id)&bound_ms=\(bound)",
            key: key
        )
        guard response.status == .ok, let cursor = response.object["cursor"] as? Int else {
            throw TestFailure("feed poll failed: \(response.status) \(response.text)")
        }
        return Int64(cursor)
    }

    /// A verifier that keeps up: polls, applies (nothing to apply here), polls again with the new
    /// cursor, until cancelled.
    static func follow(_ api: TestAPI, key: String, id: String, from cursor: Int64) async {
        var cursor = cursor
        while !Task.isCancelled {
            guard let next = try? await poll(api, key: key, id: id, after: cursor, wait: 5) else { return }
            cursor = next
        }
    }

    static func latestCursor(_ env: TestEnvironment) async throws -> Int64 {
        try await env.store.revocationBounds().latest
    }

    @Test("a poll naming a verifier registers it; the admin API lists it with its cursor, lag, contact, bound and status")
    func registry() async throws {
        try await Self.withServer { api, env in
            let (agent, key) = try await Self.verifierKey(api)
            let empty = try await api.admin(.get, "/admin/verifiers")
            #expect(empty.status == .ok && (empty.object["verifiers"] as? [Any])?.isEmpty == true, "\(empty.text)")
            // A follower that names no verifier is not registered.
            #expect(try await api.request(.get, "/oauth/revocations?after=0&wait=0", key: key).status == .ok)
            #expect((try await api.admin(.get, "/admin/verifiers").object["verifiers"] as? [Any])?.isEmpty == true)

            let before = Date()
            try await Self.poll(api, key: key, id: "vfr_one", after: 0, bound: 60_000)
            let listed = try #require(try await api.admin(.get, "/admin/verifiers").object["verifiers"] as? [[String: Any]])
            #expect(listed.count == 1)
            let entry = try #require(listed.first)
            #expect(entry["id"] as? String == "vfr_one")
            #expect(entry["name"] as? String == "host-vfr_one")
            #expect(entry["agent_id"] as? String == agent, "the agent of the credential it polls with")
            #expect(entry["cursor"] as? Int == 0)
            #expect(entry["bound_ms"] as? Int == 60_000)
            #expect(entry["status"] as? String == "live")
            let seen = try #require((entry["last_seen"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
            #expect(abs(seen.timeIntervalSince(before)) < 5, "last_seen is the poll's time: \(seen)")
            #expect(entry["lag_ms"] as? Int == 0, "nothing happened since its cursor")

            // A revocation it does not acknowledge: it lags by the time since.
            let target = try await api.createKey(agent: agent, scopes: ["conversations:read"])
            let revoked = try await api.admin(.post, "/admin/keys/\(target.id)/revoke")
            #expect((revoked.object["propagation"] as? [String: Any])?["pending"] as? [String] == ["vfr_one"])
            let lagging = try #require((try await api.admin(.get, "/admin/verifiers").object["verifiers"] as? [[String: Any]])?.first)
            #expect(try #require(lagging["lag_ms"] as? Int) >= 500, "behind since the revocation, 600 ms ago: \(lagging)")
            #expect(lagging["cursor"] as? Int == 0)
            _ = env
        }
    }

    @Test("malformed verifier parameters get 400 invalid_request and register nothing")
    func malformedParameters() async throws {
        try await Self.withServer { api, _ in
            let (_, key) = try await Self.verifierKey(api)
            for query in [
                "verifier=",
                "verifier=has%20space",
                "verifier=\(String(repeating: "a", count: 65))",
                "verifier=vfr_a&verifier_name=",
                "verifier=vfr_a&verifier_name=tab%09name",
                "verifier=vfr_a&verifier_name=\(String(repeating: "n", count: 129))",
                "verifier=vfr_a&bound_ms=99",
                "verifier=vfr_a&bound_ms=86400001",
                "verifier=vfr_a&bound_ms=soon",
                "verifier_name=lonely",
                "bound_ms=1000",
            ] {
                let response = try await api.request(.get, "/oauth/revocations?after=0&wait=0&\(query)", key: key)
                #expect(response.status == .badRequest, "\(query): \(response.status)")
                #expect(response.errorCode == "invalid_request", "\(query): \(response.text)")
            }
            #expect((try await api.admin(.get, "/admin/verifiers").object["verifiers"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("a key revocation answers once the live verifiers acknowledged it: confirmed, nothing pending, well before the timeout")
    func confirmed() async throws {
        try await Self.withServer(timeout: .seconds(60)) { api, env in
            let (_, key) = try await Self.verifierKey(api)
            let agent = try await api.createAgent()
            let target = try await api.createKey(agent: agent, scopes: ["conversations:read"])
            let cursor = try await Self.latestCursor(env)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await Self.follow(api, key: key, id: "vfr_a", from: cursor) }
                group.addTask { await Self.follow(api, key: key, id: "vfr_b", from: cursor) }
                try await Self.eventually { (try await env.store.verifiers()).count == 2 }
                let started = ContinuousClock.now
                let revoked = try await api.admin(.post, "/admin/keys/\(target.id)/revoke")
                let took = ContinuousClock.now - started
                #expect(revoked.status == .ok)
                let propagation = try #require(revoked.object["propagation"] as? [String: Any], "\(revoked.text)")
                #expect(propagation["confirmed"] as? Int == 2)
                #expect((propagation["pending"] as? [String])?.isEmpty == true)
                #expect(took < .seconds(30), "answered on the acknowledgements, not at the timeout: \(took)")
                let seq = try await Self.latestCursor(env)
                #expect(try await env.store.verifiers().allSatisfy { $0.cursor >= seq }, "both cursors passed the event")
                group.cancelAll()
            }
        }
    }

    @Test("a live verifier that does not acknowledge is pending: the answer comes at the timeout and names it")
    func pendingAtTimeout() async throws {
        try await Self.withServer(timeout: .milliseconds(700)) { api, env in
            let (_, key) = try await Self.verifierKey(api)
            let agent = try await api.createAgent()
            let target = try await api.createKey(agent: agent, scopes: ["conversations:read"])
            try await Self.poll(api, key: key, id: "vfr_silent", after: try await Self.latestCursor(env))
            let started = ContinuousClock.now
            let disabled = try await api.admin(.post, "/admin/agents/\(agent)/disable")
            let took = ContinuousClock.now - started
            #expect(disabled.status == .ok)
            let propagation = try #require(disabled.object["propagation"] as? [String: Any], "\(disabled.text)")
            #expect(propagation["confirmed"] as? Int == 0)
            #expect(propagation["pending"] as? [String] == ["vfr_silent"])
            let waited = try #require(propagation["waited_ms"] as? Int)
            #expect(waited >= 700 && took >= .milliseconds(700), "waited the timeout: \(waited) ms, \(took)")
            #expect(disabled.object["status"] as? String == "disabled")
            _ = target
        }
    }

    @Test("a verifier silent past its own bound is stale: not waited for, not pending")
    func staleNotWaitedFor() async throws {
        try await Self.withServer(timeout: .seconds(30)) { api, env in
            let (_, key) = try await Self.verifierKey(api)
            let agent = try await api.createAgent()
            let target = try await api.createKey(agent: agent, scopes: ["conversations:read"])
            try await Self.poll(api, key: key, id: "vfr_brief", after: try await Self.latestCursor(env), bound: 100)
            try await Task.sleep(for: .milliseconds(300))
            let listed = try #require(try await api.admin(.get, "/admin/verifiers").object["verifiers"] as? [[String: Any]])
            #expect(listed.first?["status"] as? String == "stale")
            let started = ContinuousClock.now
            let revoked = try await api.admin(.post, "/admin/keys/\(target.id)/revoke")
            #expect(ContinuousClock.now - started < .seconds(20), "not held for the 30 s timeout")
            let propagation = try #require(revoked.object["propagation"] as? [String: Any])
            #expect(propagation["confirmed"] as? Int == 0)
            #expect((propagation["pending"] as? [String])?.isEmpty == true)
        }
    }

    @Test("/oauth/revoke waits for the verifiers too; its body stays RFC 7009's")
    func oauthRevokeWaits() async throws {
        try await Self.withServer(timeout: .seconds(3)) { api, env in
            let (_, key) = try await Self.verifierKey(api)
            let agent = try await api.createAgent()
            let (clientID, secret) = try await api.createClient(agent: agent, json: #"{"scope":"conversations:read"}"#)
            let issued = try await api.token(form: "grant_type=client_credentials", basic: (clientID, secret ?? ""))
            let token = try #require(issued.object["access_token"] as? String)
            try await Self.poll(api, key: key, id: "vfr_silent", after: try await Self.latestCursor(env))
            let started = ContinuousClock.now
            var headers = HTTPFields()
            headers[.authorization] = "Basic " + Data("\(clientID):\(secret ?? "")".utf8).base64EncodedString()
            let revoked = try await api.request(.post, "/oauth/revoke", headers: headers, form: "token=\(token)")
            #expect(revoked.status == .ok && revoked.body.readableBytes == 0)
            #expect(ContinuousClock.now - started >= .seconds(3), "held until the timeout for the silent verifier")
            // Nothing left to revoke: no wait.
            let again = ContinuousClock.now
            #expect(try await api.request(.post, "/oauth/revoke", headers: headers, form: "token=\(token)").status == .ok)
            #expect(ContinuousClock.now - again < .milliseconds(2500))
        }
    }

    @Test("revoke-tokens: the client's tokens are refused, the client gets new ones, and the change is audited")
    func revokeClientTokens() async throws {
        try await Self.withServer { api, env in
            let agent = try await api.createAgent()
            let (clientID, secret) = try await api.createClient(agent: agent, json: #"{"scope":"conversations:read"}"#)
            let basic = (clientID, secret ?? "")
            let old = try #require(try await api.token(form: "grant_type=client_credentials", basic: basic).object["access_token"] as? String)
            #expect(try await api.introspect(old, as: env.adminKey).object["active"] as? Bool == true)
            // Tokens are dated in whole seconds: one issued in the same second as the revocation is revoked too.
            try await Task.sleep(for: .milliseconds(1100))
            let revoked = try await api.admin(.post, "/admin/clients/\(clientID)/revoke-tokens")
            #expect(revoked.status == .ok, "\(revoked.text)")
            #expect(revoked.object["client_id"] as? String == clientID && revoked.object["status"] as? String == "active")
            #expect(revoked.object["propagation"] as? [String: Any] != nil)
            #expect(try await api.introspect(old, as: env.adminKey).object["active"] as? Bool == false, "the old token is dead")
            try await Task.sleep(for: .milliseconds(1100))
            let fresh = try #require(try await api.token(form: "grant_type=client_credentials", basic: basic).object["access_token"] as? String)
            #expect(try await api.introspect(fresh, as: env.adminKey).object["active"] as? Bool == true, "a new one works")

            let events = try await env.store.auditEvents(AuditFilter(type: .clientTokensRevoked))
            #expect(events.count == 1 && events.first?.credentialID == clientID && events.first?.agentID == agent)
            #expect(try await api.admin(.post, "/admin/clients/cli_nosuch/revoke-tokens").status == .notFound)
            let (_, plain) = try await api.createKey(agent: agent, scopes: ["conversations:read"])
            #expect(try await api.request(.post, "/admin/clients/\(clientID)/revoke-tokens", key: plain).status == .forbidden)
        }
    }

    @Test("an agent's registered verifiers are capped: the next new instance id gets 400")
    func perAgentCap() async throws {
        try await Self.withServer { api, _ in
            let (_, key) = try await Self.verifierKey(api)
            for index in 0..<Verifier.limitPerAgent {
                try await Self.poll(api, key: key, id: "vfr_\(index)", after: 0)
            }
            let refused = try await api.request(.get, "/oauth/revocations?after=0&wait=0&verifier=vfr_extra", key: key)
            #expect(refused.status == .badRequest && refused.errorCode == "invalid_request", "\(refused.text)")
            try await Self.poll(api, key: key, id: "vfr_0", after: 0)
            let (_, other) = try await Self.verifierKey(api)
            try await Self.poll(api, key: other, id: "vfr_extra", after: 0)
        }
    }

    @Test("an instance id belongs to the agent that registered it: another agent's poll with it gets 400 and changes nothing")
    func idOwnership() async throws {
        try await Self.withServer { api, env in
            let (owner, key) = try await Self.verifierKey(api)
            try await Self.poll(api, key: key, id: "vfr_owned", after: 0)
            let (_, intruder) = try await Self.verifierKey(api)
            let latest = try await Self.latestCursor(env)
            let refused = try await api.request(.get, "/oauth/revocations?after=\(latest)&wait=0&verifier=vfr_owned", key: intruder)
            #expect(refused.status == .badRequest && refused.errorCode == "invalid_request", "\(refused.text)")
            let stored = try await env.store.verifiers()
            #expect(stored.count == 1 && stored[0].agentID == owner && stored[0].cursor == 0, "not acknowledged by the intruder: \(stored)")
            let leave = try await api.request(.get, "/oauth/revocations?after=0&wait=0&verifier=vfr_owned&leaving=true", key: intruder)
            #expect(leave.status == .ok)
            #expect(try await env.store.verifiers().count == 1, "nor removed by it")
        }
    }

    @Test("a verifier that leaves is removed at once, and revocations stop waiting for it")
    func leaving() async throws {
        try await Self.withServer(timeout: .seconds(30)) { api, env in
            let (_, key) = try await Self.verifierKey(api)
            let agent = try await api.createAgent()
            let target = try await api.createKey(agent: agent, scopes: ["conversations:read"])
            let cursor = try await Self.latestCursor(env)
            try await Self.poll(api, key: key, id: "vfr_going", after: cursor)
            let left = try await api.request(.get, "/oauth/revocations?after=\(cursor)&wait=20&verifier=vfr_going&leaving=true", key: key)
            #expect(left.status == .ok && left.object["cursor"] as? Int == Int(cursor), "answered at once: \(left.text)")
            #expect(try await env.store.verifiers().isEmpty)
            let started = ContinuousClock.now
            let revoked = try await api.admin(.post, "/admin/keys/\(target.id)/revoke")
            #expect(ContinuousClock.now - started < .seconds(20), "not held for a verifier that left")
            #expect((revoked.object["propagation"] as? [String: Any])?["pending"] as? [String] == [])
            for query in ["leaving=yes", "leaving=", "verifier=vfr_x&leaving=1"] {
                let response = try await api.request(.get, "/oauth/revocations?after=0&wait=0&\(query)", key: key)
                #expect(response.status == .badRequest, "\(query): \(response.status)")
            }
        }
    }

    @Test("another agent's credential cannot poll under a registered verifier's id: no false acknowledgement, no shortened bound")
    func instanceIDBelongsToItsAgent() async throws {
        try await Self.withServer(timeout: .milliseconds(700)) { api, env in
            let (owner, key) = try await Self.verifierKey(api)
            let (_, intruder) = try await Self.verifierKey(api)
            let agent = try await api.createAgent()
            let target = try await api.createKey(agent: agent, scopes: ["conversations:read"])
            let before = try await Self.latestCursor(env)
            try await Self.poll(api, key: key, id: "vfr_real", after: before)
            // The intruder declares the shortest bound, so the real verifier turns stale at once,
            // and acknowledges events the real verifier never applied.
            let spoofed = try await api.request(
                .get,
                "/oauth/revocations?after=\(before)&wait=0&verifier=vfr_real&verifier_name=evil&bound_ms=100",
                key: intruder
            )
            #expect(spoofed.status == .badRequest && spoofed.errorCode == "invalid_request", "\(spoofed.status) \(spoofed.text)")
            let entry = try #require(try await env.store.verifiers().first { $0.id == "vfr_real" })
            #expect(entry.agentID == owner && entry.boundMilliseconds == 15_000 && entry.name == "host-vfr_real", "\(entry)")
            try await Task.sleep(for: .milliseconds(200))
            let revoked = try await api.admin(.post, "/admin/keys/\(target.id)/revoke")
            let propagation = try #require(revoked.object["propagation"] as? [String: Any], "\(revoked.text)")
            #expect(propagation["pending"] as? [String] == ["vfr_real"], "the real verifier, silent, is still waited for: \(revoked.text)")
            // Nor can the intruder acknowledge the revocation in its name.
            let latest = try await Self.latestCursor(env)
            let acknowledged = try await api.request(.get, "/oauth/revocations?after=\(latest)&wait=0&verifier=vfr_real", key: intruder)
            #expect(acknowledged.status == .badRequest, "\(acknowledged.status)")
            #expect(try await env.store.verifiers().first { $0.id == "vfr_real" }?.cursor == before)
        }
    }

    @Test("one agent never has more live verifiers than the cap: a bound longer than the hour after which a verifier counts as gone is refused")
    func liveVerifiersCapped() async throws {
        let clock = TestClock()
        try await Self.withServer(now: clock.now) { api, _ in
            let (agent, key) = try await Self.verifierKey(api)
            for round in 0..<2 {
                for index in 0..<Verifier.limitPerAgent {
                    let id = "vfr_\(round)_\(index)"
                    // The longest bound the server accepts.
                    var response = try await api.request(.get, "/oauth/revocations?after=0&wait=0&verifier=\(id)&bound_ms=86400000", key: key)
                    if response.status == .badRequest {
                        response = try await api.request(.get, "/oauth/revocations?after=0&wait=0&verifier=\(id)&bound_ms=3600000", key: key)
                    }
                    #expect(response.status == .ok, "\(id): \(response.text)")
                }
                // Past the hour after which the first round counts as gone: a new round is admitted.
                clock.advance(Verifier.goneAfter + 1)
            }
            clock.advance(-(Verifier.goneAfter + 1))
            let listed = try #require(try await api.admin(.get, "/admin/verifiers").object["verifiers"] as? [[String: Any]])
            let live = listed.filter { $0["agent_id"] as? String == agent && $0["status"] as? String == "live" }
            #expect(live.count <= Verifier.limitPerAgent, "\(live.count) live verifiers of one agent, all waited for by every revocation")
        }
    }

    static func eventually(_ condition: @Sendable () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw TestFailure("condition not met in 10 s") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
