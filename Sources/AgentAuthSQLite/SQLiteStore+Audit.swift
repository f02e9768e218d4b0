public import AgentAuthCore
import Foundation
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
        let previous: (seq: Int64, hash: String)? = last.map { ($0["seq"], $0["hash"]) }
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
}
