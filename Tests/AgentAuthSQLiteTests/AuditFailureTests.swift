import AgentAuthSQLite
import AgentAuthStoreConformance
import Foundation
import GRDB
import Testing

@Suite("SQLite store: audit failures")
struct AuditFailureTests {
    @Test("a change whose audit write fails leaves nothing behind")
    func auditFailureLeavesNothing() async throws {
        try await SQLiteStoreTests.withDirectory { directory in
            let path = directory.appendingPathComponent("agentauth.sqlite").path
            let store = try SQLiteStore(path: path)
            try await AuditFailureConformance.run(store) { try await Self.breakAuditWrites(path) }
        }
    }

    @Test("a change of rate limits, quotas or clients whose audit write fails leaves nothing behind")
    func limitsAuditFailureLeavesNothing() async throws {
        try await SQLiteStoreTests.withDirectory { directory in
            let path = directory.appendingPathComponent("agentauth.sqlite").path
            let store = try SQLiteStore(path: path)
            try await AuditFailureConformance.runLimits(store) { try await Self.breakAuditWrites(path) }
        }
    }

    /// From another connection, as an operator or a full disk would: every audit insert now fails.
    static func breakAuditWrites(_ path: String) async throws {
        let database = try DatabaseQueue(path: path)
        try await database.write { db in
            try db.execute(
                sql: "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit write refused'); END"
            )
        }
        try database.close()
    }
}
