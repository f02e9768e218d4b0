import AgentAuthCore
import AgentAuthHTTP
import AgentAuthSQLite
import AgentAuthTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import AgentAuthServer

/// Waiting revocation-feed requests (SECURITY-CASES 59): woken by `RevocationSync` the moment it
/// learns of a new event, not by a sleep loop, and capped per credential.
@Suite("Revocation feed waits")
struct FeedWaitTests {
    @Test("59: waiters are woken inside sync(), as soon as it sees a new event")
    func wokenBySync() async throws {
        try await TestEnvironment.with { env in
            let sync = RevocationSync(store: env.store, list: RevocationList(), keyRing: SigningKeyRing(store: env.store, masterKey: env.masterKey))
            try await sync.sync()
            let cursor = sync.latestSeq
            let woken = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        await sync.waitForEvents(after: cursor, timeout: .seconds(30))
                        return 1
                    }
                }
                try await Self.eventually { sync.waitingCount == 20 }
                // A sync that finds nothing new wakes no one.
                try await sync.sync()
                #expect(sync.waitingCount == 20)
                _ = try await env.store.revokeToken(
                    jti: "at_feedwait",
                    agentID: env.adminAgentID,
                    expiresAt: Date().addingTimeInterval(600),
                    at: Date()
                )
                let synced = ContinuousClock.now
                try await sync.sync()
                // Resumed by sync() itself: nobody is left waiting the moment it returns.
                #expect(sync.waitingCount == 0)
                let woken = try await group.reduce(0, +)
                // Far inside their 30 s wait (a loaded machine may take a while to run 20 tasks).
                #expect(ContinuousClock.now - synced < .seconds(10))
                return woken
            }
            #expect(woken == 20)
        }
    }

    @Test("a waiter returns at its timeout, at once when already behind, and at once when its task is cancelled")
    func timeoutAndCancellation() async throws {
        try await TestEnvironment.with { env in
            let sync = RevocationSync(store: env.store, list: RevocationList(), keyRing: SigningKeyRing(store: env.store, masterKey: env.masterKey))
            _ = try await env.store.revokeToken(jti: "at_behind", agentID: env.adminAgentID, expiresAt: Date().addingTimeInterval(600), at: Date())
            try await sync.sync()
            let started = ContinuousClock.now
            await sync.waitForEvents(after: 0, timeout: .seconds(30))
            #expect(ContinuousClock.now - started < .seconds(10))

            let timed = ContinuousClock.now
            await sync.waitForEvents(after: sync.latestSeq, timeout: .milliseconds(300))
            #expect(ContinuousClock.now - timed >= .milliseconds(300))
            #expect(sync.waitingCount == 0)

            let waiter = Task { await sync.waitForEvents(after: sync.latestSeq, timeout: .seconds(30)) }
            try await Self.eventually { sync.waitingCount == 1 }
            let cancelled = ContinuousClock.now
            waiter.cancel()
            await waiter.value
            #expect(ContinuousClock.now - cancelled < .seconds(10))
            #expect(sync.waitingCount == 0)
        }
    }

    @Test("59: a waiting poll is answered as soon as a key is revoked, with no background sync running")
    func pollAnsweredOnRevocation() async throws {
        try await Self.withServer(maxPolls: 64) { api, components in
            let agent = try await api.createAgent()
            let (_, feedKey) = try await api.createKey(agent: agent, scopes: ["introspect"])
            let (keyID, _) = try await api.createKey(agent: agent, scopes: ["x"])
            let cursor = components.revocationSync.latestSeq
            async let poll = api.request(.get, "/oauth/revocations?after=\(cursor)&wait=30", key: feedKey)
            try await Self.eventually { components.revocationSync.waitingCount == 1 }
            let revoked = ContinuousClock.now
            #expect(try await api.admin(.post, "/admin/keys/\(keyID)/revoke").status == .ok)
            let answer = try await poll
            #expect(ContinuousClock.now - revoked < .seconds(10))
            #expect(answer.status == .ok)
            #expect((answer.object["events"] as? [[String: Any]])?.first?["subject"] as? String == keyID)
        }
    }

    @Test("59: a credential holding the most waiting polls gets 429 with Retry-After; others and non-waiting polls are unaffected")
    func perCredentialCap() async throws {
        try await Self.withServer(maxPolls: 2) { api, components in
            let agent = try await api.createAgent()
            let (keyA, feedA) = try await api.createKey(agent: agent, scopes: ["introspect"])
            let (keyB, feedB) = try await api.createKey(agent: agent, scopes: ["introspect"])
            let (victim, _) = try await api.createKey(agent: agent, scopes: ["x"])
            let cursor = components.revocationSync.latestSeq
            let path = "/oauth/revocations?after=\(cursor)&wait=30"
            async let first = api.request(.get, path, key: feedA)
            async let second = api.request(.get, path, key: feedA)
            async let other = api.request(.get, path, key: feedB)
            try await Self.eventually { components.feedPolls.count("key:" + keyA) == 2 && components.feedPolls.count("key:" + keyB) == 1 }

            let refused = try await api.request(.get, path, key: feedA)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.retryAfter] == "1")
            #expect(refused.errorCode == "too_many_requests")
            #expect(try await api.request(.get, "/oauth/revocations?after=\(cursor)&wait=0", key: feedA).status == .ok)
            #expect(components.feedPolls.count("key:" + keyA) == 2)

            #expect(try await api.admin(.post, "/admin/keys/\(victim)/revoke").status == .ok)
            for answer in try await [first, second, other] {
                #expect(answer.status == .ok)
                #expect((answer.object["events"] as? [[String: Any]])?.first?["subject"] as? String == victim)
            }
            #expect(components.feedPolls.count("key:" + keyA) == 0)
            #expect(components.feedPolls.count("key:" + keyB) == 0)
        }
    }

    /// The auth server's router with `maxPolls` waiting polls per credential and no background
    /// services, so only the requests themselves sync revocations.
    static func withServer(maxPolls: Int, _ body: @Sendable (TestAPI, ServerComponents) async throws -> Void) async throws {
        try await TestEnvironment.with { env in
            var configuration = env.configuration()
            configuration.maxFeedPollsPerCredential = maxPolls
            try await env.test(components: env.server.components(configuration), body)
        }
    }

    static func eventually(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw TestFailure("condition never held") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
