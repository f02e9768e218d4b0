import AgentAuthTesting
import Foundation
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension TimedProcessTests {
    /// SECURITY-CASES 59 against `agentauth serve` with its defaults: 1,000 idle long-polls of the
    /// revocation feed cost the server under 10% of a core (they used to cost 20–28%: each waited
    /// in a 50 ms sleep loop), and a client that sends its headers a byte a second is disconnected
    /// within a minute (it used to hold the connection for the 75 s idle timeout).
    @Suite("Idle and slow clients")
    struct SlowClientTests {
        static let polls = 1000
        /// Under the per-credential cap of waiting polls (64), with room to spare.
        static let pollKeys = 20

        @Test("59: 1,000 idle long-polls cost the server under 10% of a core, and a revocation answers all of them at once")
        func idleLongPolls() async throws {
            try await withTemporaryDirectory { directory in
                let server = try await AuthServerProcess.start(in: directory)
                defer { server.process.stop() }
                let agent = try await HTTP.send(.POST, "\(server.base)/admin/agents", headers: server.admin, body: #"{"name":"verifiers"}"#)
                let agentID = try #require(agent.json["id"] as? String)
                var keys: [String] = []
                for _ in 0..<Self.pollKeys {
                    let key = try await HTTP.send(
                        .POST,
                        "\(server.base)/admin/agents/\(agentID)/keys",
                        headers: server.admin,
                        body: #"{"scopes":["introspect"]}"#
                    )
                    keys.append(try #require(key.json["key"] as? String))
                }
                let victim = try await HTTP.send(
                    .POST,
                    "\(server.base)/admin/agents/\(agentID)/keys",
                    headers: server.admin,
                    body: #"{"scopes":["x"]}"#
                )
                let victimID = try #require(victim.json["id"] as? String)
                let start = try await HTTP.send(.GET, "\(server.base)/oauth/revocations?after=0&wait=0", headers: [("X-API-Key", keys[0])])
                let cursor = try #require(start.json["cursor"] as? Int)

                let port = server.port
                let pollKeys = keys
                let polls = try await RawConnection.offPool {
                    try (0..<Self.polls).map { index in
                        let connection = try RawConnection(port: port)
                        connection.send(
                            "GET /oauth/revocations?after=\(cursor)&wait=30 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: \(pollKeys[index % pollKeys.count])\r\n\r\n"
                        )
                        return connection
                    }
                }
                try await Task.sleep(for: .seconds(2))
                let pid = server.process.process.processIdentifier
                let before = try Self.cpuTicks(pid)
                let measuredFrom = ContinuousClock.now
                try await Task.sleep(for: .seconds(10))
                let ticks = try Self.cpuTicks(pid) - before
                let seconds = (ContinuousClock.now - measuredFrom) / .seconds(1)
                let share = Double(ticks) / Double(sysconf(Int32(_SC_CLK_TCK))) / seconds
                print("1,000 idle long-polls: \(ticks) CPU ticks in \(seconds) s = \(String(format: "%.1f", share * 100))% of a core")
                #expect(share < 0.10, "1,000 idle long-polls cost \(share * 100)% of a core")

                let answered = try await RawConnection.offPool { polls.filter { !$0.closedByPeer(within: .milliseconds(1)) }.count }
                #expect(answered == Self.polls, "every poll is still waiting")
                let revokedAt = ContinuousClock.now
                let revoke = try await HTTP.send(.POST, "\(server.base)/admin/keys/\(victimID)/revoke", headers: server.admin)
                #expect(revoke.status == 200)
                let statuses = try await RawConnection.offPool {
                    polls.map { RawResponse($0.read(timeout: .seconds(5), untilResponseEnd: true).bytes) }
                }
                #expect(ContinuousClock.now - revokedAt < .seconds(5))
                #expect(statuses.filter { $0.status == 200 && $0.body.contains(victimID) }.count == Self.polls)
            }
        }

        @Test("59: with the default deadline, a client sending its headers a byte a second is disconnected within a minute")
        func byteAtATimeHeaders() async throws {
            try await withTemporaryDirectory { directory in
                let server = try await AuthServerProcess.start(in: directory)
                defer { server.process.stop() }
                let connection = try RawConnection(port: server.port)
                let head = Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: \(String(repeating: "a", count: 120))\r\n\r\n".utf8)
                let started = ContinuousClock.now
                let disconnectedAfter: Duration? = try await RawConnection.offPool {
                    for byte in head {
                        guard ContinuousClock.now - started < .seconds(60) else { return nil }
                        // The server's answer (408) or its close ends the dribble.
                        if !connection.send([byte]) || connection.closedByPeer(within: .seconds(1)) { return ContinuousClock.now - started }
                    }
                    return nil
                }
                let after = try #require(disconnectedAfter, "still connected after 60 s")
                #expect(after < .seconds(60))
                #expect(after > .seconds(15), "closed after \(after): the default head deadline is 20 s")
                #expect(try await HTTP.send(.GET, "\(server.base)/healthz").status == 200)
            }
        }

        /// utime + stime of `pid`, in clock ticks (proc(5): fields 14 and 15 of /proc/PID/stat).
        static func cpuTicks(_ pid: pid_t) throws -> Int {
            let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
            // The command name (field 2) is in parentheses and may hold spaces: count from after it.
            let fields = stat[stat.index(after: try #require(stat.lastIndex(of: ")")))...].split(separator: " ")
            return try #require(Int(fields[11])) + (try #require(Int(fields[12])))
        }
    }
}
