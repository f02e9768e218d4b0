import AgentAuthPostgres
import AgentAuthStoreConformance
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
                try await AuditFailureConformance.run(store) {
                    // Another session, as an operator or a failing disk would: every audit insert now fails.
                    let components = try #require(URLComponents(string: url))
                    let client = PostgresClient(
                        configuration: .init(
                            host: try #require(components.host),
                            port: components.port ?? 5432,
                            username: try #require(components.user),
                            password: components.password,
                            database: String(components.path.dropFirst()),
                            tls: .disable
                        ),
                        backgroundLogger: Logger(label: "test")
                    )
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { await client.run() }
                        defer { group.cancelAll() }
                        try await client.query(
                            """
                            CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
                            BEGIN RAISE EXCEPTION 'audit write refused'; END $$
                            """
                        )
                        try await client.query(
                            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_audit()"
                        )
                    }
                }
            }
        }
    }
}
