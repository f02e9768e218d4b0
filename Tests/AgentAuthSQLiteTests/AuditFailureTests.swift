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
            try await AuditFailureConformance.run(store) {
                // Another connection, as an operator or a full disk would: every audit insert now fails.
                let database = try DatabaseQueue(path: path)
                try await database.write { db in
                    try db.execute(
                        sql: "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit write refused'); END"
                    )
                }
                try database.close()
            }
        }
    }
}
