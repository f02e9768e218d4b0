import AgentAuthTesting
import Foundation
import NIOHTTP1
import Synchronization
import Testing

extension TimedProcessTests {
    /// SIGTERM while admin writes and token requests are in flight: `/readyz` fails for
    /// `--shutdown-grace`, the requests in flight are answered, the audit queue is flushed, and
    /// the process exits 0 with nothing acknowledged lost.
    @Suite("SIGTERM under load")
    struct DrainTests {
        struct Acknowledged: Sendable {
            var agents: [String] = []
            var tokenIDs: [String] = []
        }

        /// What the load's workers share with the test.
        final class Load: Sendable {
            let acknowledged = Mutex(Acknowledged())
            let signalled = Atomic(false)
        }

        /// The `jti` of an access token (its payload read without verifying: the audit is what is checked).
        static func tokenID(_ token: String) -> String? {
            let parts = token.split(separator: ".")
            guard parts.count == 3 else { return nil }
            var payload = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            payload += String(repeating: "=", count: (4 - payload.count % 4) % 4)
            guard let data = Data(base64Encoded: payload), let claims = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                return nil
            }
            return claims["jti"] as? String
        }

        @Test("readyz 503 during --shutdown-grace; every 2xx write present after restart, every issued token audited, audit verify passes, exit 0")
        func sigtermUnderLoad() async throws {
            try await withTemporaryDirectory { directory in
                let server = try await AuthServerProcess.start(in: directory, arguments: ["--shutdown-grace", "2"])
                let agent = try await HTTP.send(.POST, "\(server.base)/admin/agents", headers: server.admin, body: #"{"name":"drain"}"#)
                let agentID = try #require(agent.json["id"] as? String)
                let client = try await HTTP.send(
                    .POST,
                    "\(server.base)/admin/agents/\(agentID)/clients",
                    headers: server.admin,
                    body: #"{"scope":"conversations:read"}"#
                )
                let tokenHeaders = HTTP.basicForm(
                    clientID: try #require(client.json["client_id"] as? String),
                    secret: try #require(client.json["client_secret"] as? String)
                )
                let shared = Load()
                let child = server.process.process

                let load = Task {
                    await withTaskGroup(of: Void.self) { group in
                        for worker in 0..<16 {
                            group.addTask {
                                var sequence = 0
                                // Until the server refuses connections (it has stopped accepting).
                                while true {
                                    sequence += 1
                                    do {
                                        if worker.isMultiple(of: 2) {
                                            let response = try await HTTP.send(
                                                .POST,
                                                "\(server.base)/admin/agents",
                                                headers: server.admin,
                                                body: #"{"name":"load-\#(worker)-\#(sequence)"}"#,
                                                timeout: 20
                                            )
                                            if (200..<300).contains(response.status), let id = response.json["id"] as? String {
                                                shared.acknowledged.withLock { $0.agents.append(id) }
                                            }
                                        } else {
                                            let response = try await HTTP.send(
                                                .POST,
                                                "\(server.base)/oauth/token",
                                                headers: tokenHeaders,
                                                body: "grant_type=client_credentials",
                                                timeout: 20
                                            )
                                            if (200..<300).contains(response.status), let token = response.json["access_token"] as? String,
                                                let jti = Self.tokenID(token)
                                            {
                                                shared.acknowledged.withLock { $0.tokenIDs.append(jti) }
                                            }
                                        }
                                    } catch {
                                        if shared.signalled.load(ordering: .relaxed) { return }
                                    }
                                }
                            }
                        }
                    }
                }

                try await Task.sleep(for: .seconds(1))
                let before = shared.acknowledged.withLock { $0 }
                shared.signalled.store(true, ordering: .relaxed)
                child.terminate()
                // During the grace, readiness fails while requests are still served.
                var sawNotReady = false
                let graceEnd = ContinuousClock.now + .milliseconds(1500)
                while ContinuousClock.now < graceEnd, !sawNotReady {
                    if let ready = try? await HTTP.send(.GET, "\(server.base)/readyz", timeout: 5) {
                        if ready.status == 503 { sawNotReady = true }
                    }
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(sawNotReady, "/readyz answered 503 during the grace")

                let start = ContinuousClock.now
                while child.isRunning, ContinuousClock.now - start < .seconds(35) {
                    try await Task.sleep(for: .milliseconds(50))
                }
                try #require(!child.isRunning, "still running 35 s after SIGTERM")
                #expect(child.terminationStatus == 0, "exit status \(child.terminationStatus):\n\(server.process.output)")
                // What is still queued in the client waits for a connection that will never come.
                load.cancel()
                await load.value
                let done = shared.acknowledged.withLock { $0 }
                #expect(
                    done.agents.count > before.agents.count,
                    "writes were acknowledged during the grace: \(before.agents.count) → \(done.agents.count)"
                )
                #expect(
                    done.agents.count >= 20 && done.tokenIDs.count >= 20,
                    "under load: \(done.agents.count) writes, \(done.tokenIDs.count) tokens"
                )

                // Restarted, the server has every acknowledged write.
                let port = try LoopbackPort.free()
                let restarted = try await RunningProcess("agentauth", ["serve", "--port", "\(port)"], in: directory)
                defer { restarted.stop() }
                try await restarted.waitForOutput("AgentAuth listening")
                let base = "http://127.0.0.1:\(port)"
                try await WalkthroughTests.waitUntilHealthy(base)
                var missing: [String] = []
                for id in done.agents where try await HTTP.send(.GET, "\(base)/admin/agents/\(id)", headers: server.admin).status != 200 {
                    missing.append(id)
                }
                #expect(missing.isEmpty, "acknowledged writes lost: \(missing.count) of \(done.agents.count)")
                restarted.stop()
                await #expect(restarted.process.exitStatus() == 0)

                // Every issued token has its queued audit event; every acknowledged write its own.
                let issued = try await Binaries.agentauth(["audit", "list", "--type", "token.issued", "--json", "--limit", "10000"], in: directory)
                let issuedIDs = Set(
                    try #require(issued.json["events"] as? [[String: Any]], "\(issued.stderr)").compactMap {
                        ($0["details"] as? [String: String])?["jti"]
                    }
                )
                #expect(
                    Set(done.tokenIDs).subtracting(issuedIDs).isEmpty,
                    "token.issued events lost: \(Set(done.tokenIDs).subtracting(issuedIDs).count)"
                )
                let created = try await Binaries.agentauth(["audit", "list", "--type", "agent.created", "--json", "--limit", "10000"], in: directory)
                let createdIDs = Set(try #require(created.json["events"] as? [[String: Any]]).compactMap { $0["agent_id"] as? String })
                #expect(Set(done.agents).subtracting(createdIDs).isEmpty, "agent.created events lost")
                let verified = try await Binaries.agentauth(["audit", "verify"], in: directory)
                #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
            }
        }
    }
}
