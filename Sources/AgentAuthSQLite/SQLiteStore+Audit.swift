public import AgentAuthCore
public import Foundation
import GRDB

/// The hash-chained audit log (`AuditStore`).
extension SQLiteStore {
    public func appendAudit(_ events: [AuditEvent], key: AuditChainKey) async throws {
        guard !events.isEmpty else { return }
        try await write { db in try Self.append(AuditRecord(events: events, key: key), db) }
    }

    /// Appends `audit`'s events after the chain's last one, inside the caller's write transaction.
    static func append(_ audit: AuditRecord?, _ db: Database) throws {
        guard let audit, !audit.events.isEmpty else { return }
        let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
        // A log whose every event was removed continues from its anchor.
        let previous: (seq: Int64, hash: String)? = try last.map { ($0["seq"], $0["hash"]) } ?? anchor(db).map { ($0.seq, $0.hash) }
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO audit_events (seq, time, type, agent_id, credential_id, client_address, request_id, outcome, details, previous_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        for event in AuditChain.link(audit.events, after: previous, key: audit.key) {
            try statement.execute(arguments: [
                event.seq, event.time.timeIntervalSince1970, event.type.rawValue, event.agentID, event.credentialID, event.clientAddress,
                event.requestID, event.outcome.rawValue, try Self.json(event.details), event.previousHash, event.hash,
            ])
        }
    }

    public func auditEvents(_ filter: AuditFilter) async throws -> [AuditEvent] {
        try await read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let agentID = filter.agentID {
                conditions.append("agent_id = ?")
                _ = arguments.append(contentsOf: [agentID])
            }
            if let type = filter.type {
                conditions.append("type = ?")
                _ = arguments.append(contentsOf: [type.rawValue])
            }
            if let since = filter.since {
                conditions.append("time >= ?")
                _ = arguments.append(contentsOf: [since.timeIntervalSince1970])
            }
            _ = arguments.append(contentsOf: [filter.limit])
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try Row.fetchAll(db, sql: "SELECT * FROM audit_events \(whereClause) ORDER BY seq DESC LIMIT ?", arguments: arguments)
                .map(Self.auditEvent)
        }
    }

    public func auditChain() async throws -> [AuditEvent] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM audit_events ORDER BY seq").map(Self.auditEvent) }
    }

    public func auditChain(after seq: Int64, limit: Int) async throws -> [AuditEvent] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [seq, limit])
                .map(Self.auditEvent)
        }
    }

    public func auditAnchor() async throws -> AuditAnchor? {
        try await read { db in try Self.anchor(db) }
    }

    public func auditCut(before time: Date) async throws -> Int64? {
        try await read { db in
            // Walks the chain from its start, which is what a cut removes, up to the first event to keep.
            let firstKept = try Int64.fetchOne(
                db,
                sql: "SELECT seq FROM audit_events WHERE time >= ? ORDER BY seq LIMIT 1",
                arguments: [time.timeIntervalSince1970]
            )
            let cut = try firstKept.map { $0 - 1 } ?? Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM audit_events")
            guard let cut, let oldest = try Int64.fetchOne(db, sql: "SELECT MIN(seq) FROM audit_events"), cut >= oldest else { return nil }
            return cut
        }
    }

    public func pruneAudit(
        through seq: Int64,
        limit: Int,
        details: [String: String],
        at time: Date,
        key: AuditChainKey
    ) async throws
        -> AuditPruneBatch?
    {
        try await write { db in
            let anchor = try Self.anchor(db) ?? .genesis
            let removed = try Row.fetchAll(
                db,
                sql: "SELECT * FROM audit_events WHERE seq <= ? ORDER BY seq LIMIT ?",
                arguments: [seq, limit]
            ).map(Self.auditEvent)
            guard let last = removed.last else { return nil }
            if let problem = AuditChain.verifyLinks(removed, from: anchor, key: key) {
                throw StoreError.conflict("the audit events to remove do not verify: \(problem)")
            }
            try db.execute(sql: "DELETE FROM audit_events WHERE seq <= ?", arguments: [last.seq])
            let batch = AuditPruneBatch(count: removed.count, anchor: AuditAnchor(seq: last.seq, hash: last.hash))
            try db.execute(
                sql: "INSERT INTO settings (name, value) VALUES ('audit_anchor', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                arguments: [batch.anchor.description]
            )
            let event = AuditChain.prunedEvent(count: batch.count, anchor: batch.anchor, details: details, at: time)
            try Self.append(AuditRecord(events: [event], key: key), db)
            return batch
        }
    }

    static func anchor(_ db: Database) throws -> AuditAnchor? {
        try String.fetchOne(db, sql: "SELECT value FROM settings WHERE name = 'audit_anchor'").map(AuditAnchor.stored)
    }
}
