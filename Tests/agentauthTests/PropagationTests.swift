import AgentAuthTesting
import Foundation
import NIOHTTP1
import Testing

extension TimedProcessTests {
    /// Revocation reaching a separate resource-server process (`example-agent-api`, following the
    /// feed) within a second, and audit events surviving a graceful shutdown.
    @Suite("Revocation propagation and audit across processes", .serialized)
    struct PropagationTests {
        struct Stack {
            let auth: String
            let api: String
            let admin: [(String, String)]
            let server: RunningProcess
            let exampleAPI: RunningProcess
        }

        static func withStack(_ body: (Stack) async throws -> Void) async throws {
            try await withTemporaryDirectory { directory in
                let started = try await AuthServerProcess.start(in: directory)
                let server = started.process
                defer { server.stop() }
                let auth = started.base
                let admin = started.admin
                let example = try await ExampleAPIProcess.start(
                    authServer: auth,
                    admin: admin,
                    in: directory,
                    arguments: ["--api-key-cache-milliseconds", "5000"]
                )
                let exampleAPI = example.process
                defer { exampleAPI.stop() }
                let api = example.base
                // Ready once the feed has answered.
                let deadline = ContinuousClock.now + .seconds(20)
                while ContinuousClock.now < deadline, (try? await HTTP.send(.GET, "\(api)/readyz"))?.status != 200 {
                    try await Task.sleep(for: .milliseconds(100))
                }
                try await body(Stack(auth: auth, api: api, admin: admin, server: server, exampleAPI: exampleAPI))
            }
        }

        /// Polls until the API refuses the request; returns how long that took after `start`.
        static func timeUntilRefused(_ url: String, headers: [(String, String)], since start: ContinuousClock.Instant) async throws -> Duration {
            while ContinuousClock.now - start < .seconds(5) {
                if try await HTTP.send(.GET, url, headers: headers).status == 401 { return ContinuousClock.now - start }
                try await Task.sleep(for: .milliseconds(20))
            }
            return .seconds(999)
        }

        static func token(_ stack: Stack, agent: String, scope: String) async throws -> (token: String, clientID: String, secret: String) {
            let client = try await HTTP.send(
                .POST,
                "\(stack.auth)/admin/agents/\(agent)/clients",
                headers: stack.admin,
                body: #"{"scope":"\#(scope)"}"#
            )
            let id = try #require(client.json["client_id"] as? String)
            let secret = try #require(client.json["client_secret"] as? String)
            return (try await HTTP.clientCredentialsToken(stack.auth, clientID: id, secret: secret), id, secret)
        }

        @Test("a revoked JWT, a disabled agent's JWT and a revoked cached API key are refused by the separate API process within 1 s")
        func propagation() async throws {
            try await Self.withStack { stack in
                #expect(try await HTTP.send(.GET, "\(stack.api)/readyz").status == 200, "the example API follows the feed")
                let agent = try #require(
                    try await HTTP.send(.POST, "\(stack.auth)/admin/agents", headers: stack.admin, body: #"{"name":"worker"}"#).json["id"] as? String
                )

                // A revoked token.
                let (token, clientID, secret) = try await Self.token(stack, agent: agent, scope: "conversations:read")
                let bearer = [("Authorization", "Bearer \(token)")]
                #expect(try await HTTP.send(.GET, "\(stack.api)/v1/conversations", headers: bearer).status == 200)
                let start = ContinuousClock.now
                let revoked = try await HTTP.send(
                    .POST,
                    "\(stack.auth)/oauth/revoke",
                    headers: HTTP.basicForm(clientID: clientID, secret: secret),
                    body: "token=\(token)"
                )
                #expect(revoked.status == 200)
                let revokedAfter = try await Self.timeUntilRefused("\(stack.api)/v1/conversations", headers: bearer, since: start)
                #expect(revokedAfter < .seconds(1), "revoked JWT refused after \(revokedAfter)")

                // A cached API key, then revoked.
                let key = try await HTTP.send(
                    .POST,
                    "\(stack.auth)/admin/agents/\(agent)/keys",
                    headers: stack.admin,
                    body: #"{"scopes":["conversations:read"]}"#
                )
                let apiKey = [("X-API-Key", try #require(key.json["key"] as? String))]
                #expect(try await HTTP.send(.GET, "\(stack.api)/v1/conversations", headers: apiKey).status == 200)
                #expect(try await HTTP.send(.GET, "\(stack.api)/v1/conversations", headers: apiKey).status == 200, "served from the cache")
                let keyStart = ContinuousClock.now
                _ = try await HTTP.send(.POST, "\(stack.auth)/admin/keys/\(try #require(key.json["id"] as? String))/revoke", headers: stack.admin)
                let keyAfter = try await Self.timeUntilRefused("\(stack.api)/v1/conversations", headers: apiKey, since: keyStart)
                #expect(keyAfter < .seconds(1), "revoked API key refused after \(keyAfter)")

                // SECURITY-CASES 45: revoking a parent kills the delegated token at the API too.
                let (parent, parentClient, parentSecret) = try await Self.token(stack, agent: agent, scope: "conversations:read")
                let exchanged = try await HTTP.delegatedToken(stack.auth, admin: stack.admin, subjectToken: parent)
                let child = [("Authorization", "Bearer \(try #require(exchanged.json["access_token"] as? String))")]
                #expect(try await HTTP.send(.GET, "\(stack.api)/v1/conversations", headers: child).status == 200)
                let cascadeStart = ContinuousClock.now
                _ = try await HTTP.send(
                    .POST,
                    "\(stack.auth)/oauth/revoke",
                    headers: HTTP.basicForm(clientID: parentClient, secret: parentSecret),
                    body: "token=\(parent)"
                )
                let cascadeAfter = try await Self.timeUntilRefused("\(stack.api)/v1/conversations", headers: child, since: cascadeStart)
                #expect(cascadeAfter < .seconds(1), "a delegated token of a revoked parent refused after \(cascadeAfter)")

                // SECURITY-CASES 27: a disabled agent's token.
                let (other, _, _) = try await Self.token(stack, agent: agent, scope: "conversations:read")
                let otherBearer = [("Authorization", "Bearer \(other)")]
                #expect(try await HTTP.send(.GET, "\(stack.api)/v1/conversations", headers: otherBearer).status == 200)
                let disableStart = ContinuousClock.now
                _ = try await HTTP.send(.POST, "\(stack.auth)/admin/agents/\(agent)/disable", headers: stack.admin)
                let disabledAfter = try await Self.timeUntilRefused("\(stack.api)/v1/conversations", headers: otherBearer, since: disableStart)
                #expect(disabledAfter < .seconds(1), "disabled agent's JWT refused after \(disabledAfter)")
                _ = try await HTTP.send(.POST, "\(stack.auth)/admin/agents/\(agent)/enable", headers: stack.admin)
                try await Task.sleep(for: .milliseconds(300))
                #expect(
                    try await HTTP.send(.GET, "\(stack.api)/v1/conversations", headers: otherBearer).status == 401,
                    "re-enabling does not revive it"
                )
            }
        }

        @Test("a graceful shutdown loses no queued audit event; the chain verifies, and an edited or deleted row is caught")
        func auditAcrossShutdown() async throws {
            try await withTemporaryDirectory { directory in
                let started = try await AuthServerProcess.start(in: directory)
                let server = started.process
                let adminKey = started.adminKey
                let auth = started.base
                let admin = started.admin
                var agents: [String] = []
                for index in 0..<20 {
                    let created = try await HTTP.send(.POST, "\(auth)/admin/agents", headers: admin, body: #"{"name":"agent-\#(index)"}"#)
                    agents.append(try #require(created.json["id"] as? String))
                }
                for _ in 0..<30 { _ = try await HTTP.send(.GET, "\(auth)/admin/agents", headers: [("X-API-Key", "sk-agent-wrong")]) }
                // SIGTERM right away: the events are still queued in memory.
                server.stop()

                let listed = try await Binaries.agentauth(["audit", "--type", "agent.created", "--limit", "1000", "--json"], in: directory)
                let events = try #require(listed.json["events"] as? [[String: Any]])
                #expect(Set(events.compactMap { $0["agent_id"] as? String }) == Set(agents), "every agent.created event was written at shutdown")
                #expect(events.allSatisfy { $0["request_id"] is String && $0["client_address"] is String })
                let failures = try await Binaries.agentauth(["audit", "--type", "api_key.failure", "--json"], in: directory)
                let aggregated = try #require(failures.json["events"] as? [[String: Any]])
                #expect(aggregated.count <= 2, "failures are aggregated per credential and minute")
                #expect(aggregated.compactMap { ($0["details"] as? [String: String])?["count"] }.compactMap(Int.init).reduce(0, +) == 30)
                let all = try await Binaries.agentauth(["audit", "--limit", "10000", "--json"], in: directory)
                #expect(!all.stdout.contains(adminKey), "no secret in the audit log")

                let intact = try await Binaries.agentauth(["audit", "verify"], in: directory)
                #expect(intact.status == 0, "\(intact.stderr)")
                #expect(intact.stdout.contains("intact"))
                let anchor = try #require(intact.stdout.firstMatch(of: /anchor (\d+:[0-9a-f]{64})/).map { String($0.output.1) })

                // Tamper with the database as an attacker with file access would.
                let database = directory.appendingPathComponent("agentauth.sqlite").path
                try await Self.sqlite(database, "UPDATE audit_events SET type = 'agent.enabled' WHERE seq = 3")
                let edited = try await Binaries.agentauth(["audit", "verify"], in: directory)
                #expect(edited.status == 1)
                #expect(edited.stderr.contains("event 3 was edited"))
                try await Self.sqlite(database, "UPDATE audit_events SET type = 'agent.created' WHERE seq = 3")
                #expect(try await Binaries.agentauth(["audit", "verify"], in: directory).status == 0, "restoring the row restores the chain")
                // Deleting the newest event leaves a consistent chain; the anchor recorded earlier catches it.
                try await Self.sqlite(database, "DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)")
                #expect(try await Binaries.agentauth(["audit", "verify"], in: directory).status == 0)
                let truncated = try await Binaries.agentauth(["audit", "verify", "--anchor", anchor], in: directory)
                #expect(truncated.status == 1)
                #expect(truncated.stderr.contains("no longer in the chain"))
                try await Self.sqlite(database, "DELETE FROM audit_events WHERE seq = 5")
                let deleted = try await Binaries.agentauth(["audit", "verify"], in: directory)
                #expect(deleted.status == 1)
                #expect(deleted.stderr.contains("before event 6"))
            }
        }

        /// Runs SQL with python3's sqlite3 module: an outside tool, as an attacker would use.
        static func sqlite(_ path: String, _ sql: String) async throws {
            let result = try await ChildProcess.run(
                "/usr/bin/env",
                ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()", path, sql]
            )
            guard result.status == 0 else { throw CLIFailure("sqlite3 failed: \(sql)") }
        }
    }
}
