public import AgentAuthCore
import Foundation

/// Tampering with a pruned audit log in the database itself, as someone who can write the
/// database but does not hold the master key would. Each store's test target runs these with a
/// way to execute SQL on its engine (`execute`); the statements are the same on both.
public enum AuditTamperConformance {
    static let key = AuditChainKey(masterKey: MasterKey.generate().key)

    static func events(_ count: Int) -> [AuditEvent] {
        (0..<count).map { index in
            AuditEvent(
                time: StoreConformance.time(Double(index)),
                type: index == 0 ? AuditChain.initializationType : .tokenIssued,
                details: ["n": String(index)]
            )
        }
    }

    static func problem(_ store: any AgentAuthStore) async throws -> AuditChain.Problem? {
        AuditChain.verify(try await store.auditChain(), anchor: try await store.auditAnchor(), key: key)
    }

    /// An anchor moved over one more deleted event, a garbled anchor, and a deleted one all fail verification.
    public static func anchorTampering(_ store: any AgentAuthStore, execute: (String) async throws -> Void) async throws {
        try await store.appendAudit(events(6), key: key)
        try StoreConformance.expect(try await AuditRetention(store: store, key: key).prune(through: 3, details: [:]) == 3, "three removed")
        try StoreConformance.expect(try await problem(store) == nil, "intact after pruning")

        guard let fourth = try await store.auditChain().first else { throw ConformanceFailure(description: "events kept") }
        try await execute("DELETE FROM audit_events WHERE seq = 4")
        try await execute("UPDATE settings SET value = '4:\(fourth.hash)' WHERE name = 'audit_anchor'")
        let moved = AuditAnchor(seq: 4, hash: fourth.hash)
        try StoreConformance.expect(try await store.auditAnchor() == moved, "the anchor reads as written")
        try StoreConformance.expect(try await problem(store) == .anchorUnconfirmed(moved), "an anchor moved to hide a deletion")
        try await execute("UPDATE settings SET value = 'garbage' WHERE name = 'audit_anchor'")
        try StoreConformance.expect(try await problem(store) == .anchorMismatch(seq: 5), "a garbled anchor")
        try await execute("DELETE FROM settings WHERE name = 'audit_anchor'")
        try StoreConformance.expect(try await problem(store) == .missingStart, "a deleted anchor")
    }

    /// Events that do not verify are never removed: the removal fails and changes nothing.
    public static func pruningKeepsEvidence(_ store: any AgentAuthStore, execute: (String) async throws -> Void) async throws {
        try await store.appendAudit(events(6), key: key)
        try await execute("UPDATE audit_events SET agent_id = 'agt_someone' WHERE seq = 2")
        let before = try await store.auditChain()
        do {
            _ = try await AuditRetention(store: store, key: key).prune(through: 4, details: [:])
            throw ConformanceFailure(description: "removing an edited event must fail")
        } catch let error as StoreError {
            try StoreConformance.expect(error.kind == .conflict, "a conflict, got \(error)")
        }
        try StoreConformance.expect(try await store.auditChain() == before, "nothing removed, nothing appended")
        try StoreConformance.expect(try await store.auditAnchor() == nil, "no anchor")
    }
}
