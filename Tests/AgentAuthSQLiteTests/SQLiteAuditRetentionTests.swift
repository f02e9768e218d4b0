import AgentAuthCore
import AgentAuthSQLite
import Foundation
import Testing

@Suite("SQLite audit retention")
struct SQLiteAuditRetentionTests {
    static let key = AuditChainKey(masterKey: MasterKey.generate().key)

    static func events(_ count: Int) -> [AuditEvent] {
        (0..<count).map { index in
            AuditEvent(
                time: Date(timeIntervalSince1970: 1_800_000_000 + Double(index)),
                type: index == 0 ? AuditChain.initializationType : .tokenIssued,
                details: ["n": String(index)]
            )
        }
    }

    @Test("an anchor edited in the database, or events deleted past it, fail verification")
    func tamperedAnchorRow() async throws {
        try await SQLiteStoreTests.withDirectory { directory in
            let store = try SQLiteStore(path: directory.appendingPathComponent("agentauth.sqlite").path)
            try await store.appendAudit(Self.events(6), key: Self.key)
            #expect(try await AuditRetention(store: store, key: Self.key).prune(through: 3, details: [:]) == 3)
            let anchor = try await store.auditAnchor()
            #expect(AuditChain.verify(try await store.auditChain(), anchor: anchor, key: Self.key) == nil)

            // Moved forward over one more deleted event, as someone hiding it would.
            let fourth = try #require(try await store.auditChain().first)
            try await store.unsafeExecute("DELETE FROM audit_events WHERE seq = 4")
            try await store.unsafeExecute("UPDATE settings SET value = '4:\(fourth.hash)' WHERE name = 'audit_anchor'")
            let moved = try await store.auditAnchor()
            #expect(moved == AuditAnchor(seq: 4, hash: fourth.hash))
            let problem = AuditChain.verify(try await store.auditChain(), anchor: moved, key: Self.key)
            #expect(problem == .anchorUnconfirmed(AuditAnchor(seq: 4, hash: fourth.hash)))
            try await store.unsafeExecute("UPDATE settings SET value = 'garbage' WHERE name = 'audit_anchor'")
            #expect(AuditChain.verify(try await store.auditChain(), anchor: try await store.auditAnchor(), key: Self.key) == .anchorMismatch(seq: 5))
            try await store.unsafeExecute("DELETE FROM settings WHERE name = 'audit_anchor'")
            #expect(AuditChain.verify(try await store.auditChain(), anchor: try await store.auditAnchor(), key: Self.key) == .missingStart)
        }
    }

    @Test("pruning refuses to remove events that do not verify, and removes nothing")
    func pruningKeepsEvidence() async throws {
        try await SQLiteStoreTests.withDirectory { directory in
            let store = try SQLiteStore(path: directory.appendingPathComponent("agentauth.sqlite").path)
            try await store.appendAudit(Self.events(6), key: Self.key)
            try await store.unsafeExecute("UPDATE audit_events SET agent_id = 'agt_someone' WHERE seq = 2")
            let before = try await store.auditChain()
            await #expect(throws: StoreError.self) {
                try await AuditRetention(store: store, key: Self.key).prune(through: 4, details: [:])
            }
            #expect(try await store.auditChain() == before, "nothing removed, nothing appended")
            #expect(try await store.auditAnchor() == nil)
        }
    }
}
