import AgentAuthSQLite
import AgentAuthStoreConformance
import Foundation
import Testing

@Suite("SQLite audit retention")
struct SQLiteAuditRetentionTests {
    static func withStore(_ body: (SQLiteStore) async throws -> Void) async throws {
        try await SQLiteStoreTests.withDirectory { directory in
            try await body(try SQLiteStore(path: directory.appendingPathComponent("agentauth.sqlite").path))
        }
    }

    @Test("an anchor edited in the database, or events deleted past it, fail verification")
    func tamperedAnchorRow() async throws {
        try await Self.withStore { store in try await AuditTamperConformance.anchorTampering(store, execute: store.unsafeExecute) }
    }

    @Test("pruning refuses to remove events that do not verify, and removes nothing")
    func pruningKeepsEvidence() async throws {
        try await Self.withStore { store in try await AuditTamperConformance.pruningKeepsEvidence(store, execute: store.unsafeExecute) }
    }
}
