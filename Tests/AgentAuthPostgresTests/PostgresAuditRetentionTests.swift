import AgentAuthPostgres
import AgentAuthStoreConformance
import AgentAuthTesting
import Foundation
import Logging
import PostgresNIO
import Testing

@Suite("PostgreSQL audit retention")
struct PostgresAuditRetentionTests {
    static func withStore(_ body: (PostgresStore, _ execute: (String) async throws -> Void) async throws -> Void) async throws {
        try await PostgresStoreTests.withDatabase { url in
            let store = try await PostgresStore(url: url)
            try await PostgresStoreTests.whileRunning(store) {
                // From another session, as someone with write access to the database would.
                try await body(store) { sql in
                    try await ThrowawayPostgres.withConnection(to: url) { connection in
                        _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "test"))
                    }
                }
            }
        }
    }

    @Test("an anchor edited in the database, or events deleted past it, fail verification")
    func tamperedAnchorRow() async throws {
        try await Self.withStore { store, execute in try await AuditTamperConformance.anchorTampering(store, execute: execute) }
    }

    @Test("pruning refuses to remove events that do not verify, and removes nothing")
    func pruningKeepsEvidence() async throws {
        try await Self.withStore { store, execute in try await AuditTamperConformance.pruningKeepsEvidence(store, execute: execute) }
    }
}
