import AgentAuthTesting
import Foundation
import NIOHTTP1
import Testing

/// SIGTERM to `agentauth serve`: its service group drains the HTTP server, flushes the batch
/// writers into the store, then stops the store (the PostgreSQL pool and LISTEN connection, or
/// the SQLite pools); with nothing left running, the process exits 0.
@Suite("SIGTERM stops serve")
struct ServeShutdownTests {
    @Test("SIGTERM stops a PostgreSQL-backed serve: exit 0 within 5 s, the queued audit events written before the store closed")
    func postgres() async throws {
        let url = try await ThrowawayPostgres.newDatabase(prefix: "agentauth_shutdown_")
        try await withTemporaryDirectory { directory in
            try await Self.stopsOnSIGTERM(database: url, in: directory)
        }
    }

    @Test("SIGTERM stops an SQLite-backed serve: exit 0 within 5 s, the queued audit events written before the store closed")
    func sqlite() async throws {
        try await withTemporaryDirectory { directory in
            try await Self.stopsOnSIGTERM(database: directory.appendingPathComponent("agentauth.sqlite").path, in: directory)
        }
    }

    static func stopsOnSIGTERM(database: String, in directory: URL) async throws {
        let server = try await AuthServerProcess.start(in: directory, arguments: ["--database", database])
        defer { server.process.stop() }
        // Refusals are aggregated per minute and written by the audit flush at shutdown: if the
        // store stopped before the flush, this event would be lost.
        let refused = try await HTTP.send(.GET, "\(server.base)/admin/agents", headers: [("X-API-Key", "sk-agent-wrong")])
        #expect(refused.status == 401)
        // The node follows the store's changes (on PostgreSQL over its LISTEN connection).
        #expect(try await HTTP.send(.GET, "\(server.base)/readyz").status == 200)

        let child = server.process.process
        let start = ContinuousClock.now
        child.terminate()
        while child.isRunning, ContinuousClock.now - start < .seconds(5) {
            try await Task.sleep(for: .milliseconds(20))
        }
        try #require(!child.isRunning, "still running 5 s after SIGTERM:\n\(server.process.output)")
        #expect(child.terminationStatus == 0, "exit status \(child.terminationStatus):\n\(server.process.output)")

        let failures = try await Binaries.agentauth(["audit", "--type", "api_key.failure", "--json", "--database", database], in: directory)
        let events = try #require(failures.json["events"] as? [[String: Any]], "\(failures.stdout)\(failures.stderr)")
        #expect(events.count == 1, "the refusal was written before the store closed")
        let verified = try await Binaries.agentauth(["audit", "verify", "--database", database], in: directory)
        #expect(verified.status == 0, "\(verified.stderr)")
    }
}
