import AgentAuthPostgres
import AgentAuthStoreConformance
import AgentAuthTesting
import Foundation
import Logging
import PostgresNIO
import Testing

@Suite("PostgreSQL store: audit failures")
struct AuditFailureTests {
    @Test("a change whose audit write fails leaves nothing behind")
    func auditFailureLeavesNothing() async throws {
        try await PostgresStoreTests.withDatabase { url in
            let store = try await PostgresStore(url: url)
            try await PostgresStoreTests.whileRunning(store) {
                try await AuditFailureConformance.run(store) { try await Self.breakAuditWrites(url) }
            }
        }
    }

    @Test("a change of rate limits, quotas or clients whose audit write fails leaves nothing behind")
    func limitsAuditFailureLeavesNothing() async throws {
        try await PostgresStoreTests.withDatabase { url in
            let store = try await PostgresStore(url: url)
            try await PostgresStoreTests.whileRunning(store) {
                try await AuditFailureConformance.runLimits(store) { try await Self.breakAuditWrites(url) }
            }
        }
    }

    /// From another session, as an operator or a failing disk would: every audit insert now fails.
    static func breakAuditWrites(_ url: String) async throws {
        try await ThrowawayPostgres.withConnection(to: url) { connection in
            let logger = Logger(label: "test")
            _ = try await connection.query(
                """
                CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'audit write refused'; END $$
                """,
                logger: logger
            )
            _ = try await connection.query(
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
                logger: logger
            )
        }
    }
}
