public import AgentAuthCore
public import Foundation
import Logging
import PostgresNIO

/// The hash-chained audit log (`AuditStore`).
extension PostgresStore {
    public func appendAudit(_ events: [AuditEvent], key: AuditChainKey) async throws {
        guard !events.isEmpty else { return }
        try await transaction { [logger] connection in try await Self.append(AuditRecord(events: events, key: key), connection, logger) }
    }

    /// Appends `audit`'s events after the chain's last one, inside the caller's transaction. Called
    /// last in a transaction, so the table lock that keeps the chain linear is held only briefly.
    static func append(_ audit: AuditRecord?, _ connection: PostgresConnection, _ logger: Logger) async throws {
        guard let audit, !audit.events.isEmpty else { return }
        // Writers (every node, the CLI) append one at a time so the chain stays linear.
        try await connection.query("LOCK TABLE audit_events IN EXCLUSIVE MODE", logger: logger)
        let last = try await Self.rows(connection, "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1", logger: logger).first
        var previous: (seq: Int64, hash: String)? = try last.map { (try $0["seq"].decode(Int64.self), try $0["hash"].decode(String.self)) }
        if previous == nil, let anchor = try await anchor(connection, logger) {
            // A log whose every event was removed continues from its anchor.
            previous = (anchor.seq, anchor.hash)
        }
        for event in AuditChain.link(audit.events, after: previous, key: audit.key) {
            let details = String(decoding: try JSONEncoder().encode(event.details), as: UTF8.self)
            let time = event.time.timeIntervalSince1970
            let outcome = event.outcome.rawValue
            try await connection.query(
                """
                INSERT INTO audit_events (seq, time, type, agent_id, credential_id, client_address, request_id, outcome, details, previous_hash, hash)
                VALUES (\(event.seq), \(time), \(event.type.rawValue), \(event.agentID), \(event.credentialID), \(event.clientAddress),
                        \(event.requestID), \(outcome), \(details), \(event.previousHash), \(event.hash))
                """,
                logger: logger
            )
        }
    }

    public func auditEvents(_ filter: AuditFilter) async throws -> [AuditEvent] {
        let since = filter.since?.timeIntervalSince1970
        return try await rows(
            """
            SELECT * FROM audit_events
            WHERE (\(filter.agentID)::TEXT IS NULL OR agent_id = \(filter.agentID))
              AND (\(filter.type?.rawValue)::TEXT IS NULL OR type = \(filter.type?.rawValue))
              AND (\(since)::DOUBLE PRECISION IS NULL OR time >= \(since))
            ORDER BY seq DESC LIMIT \(filter.limit)
            """
        ).map(Self.auditEvent)
    }

    public func auditChain() async throws -> [AuditEvent] {
        try await rows("SELECT * FROM audit_events ORDER BY seq").map(Self.auditEvent)
    }

    public func auditChain(after seq: Int64, limit: Int) async throws -> [AuditEvent] {
        try await rows("SELECT * FROM audit_events WHERE seq > \(seq) ORDER BY seq LIMIT \(limit)").map(Self.auditEvent)
    }

    public func auditAnchor() async throws -> AuditAnchor? {
        try await rows("SELECT value FROM settings WHERE name = 'audit_anchor'").first.map { AuditAnchor.stored(try $0["value"].decode(String.self)) }
    }

    public func auditCut(before time: Date) async throws -> Int64? {
        let before = time.timeIntervalSince1970
        // Walks the chain from its start, which is what a cut removes, up to the first event to keep.
        let row = try await rows(
            """
            SELECT COALESCE((SELECT seq FROM audit_events WHERE time >= \(before) ORDER BY seq LIMIT 1) - 1,
                            (SELECT MAX(seq) FROM audit_events)) AS cut,
                   (SELECT MIN(seq) FROM audit_events) AS oldest
            """
        ).first
        guard let row, let cut = try row["cut"].decode(Int64?.self), let oldest = try row["oldest"].decode(Int64?.self), cut >= oldest else {
            return nil
        }
        return cut
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
        try await transaction { [logger] connection in
            // Appends wait for the removal (and it for them), so the chain stays linear.
            try await connection.query("LOCK TABLE audit_events IN EXCLUSIVE MODE", logger: logger)
            let anchor = try await Self.anchor(connection, logger) ?? .genesis
            let removed = try await Self.rows(
                connection,
                "SELECT * FROM audit_events WHERE seq <= \(seq) ORDER BY seq LIMIT \(limit)",
                logger: logger
            ).map(Self.auditEvent)
            guard let last = removed.last else { return nil }
            if let problem = AuditChain.verifyLinks(removed, from: anchor, key: key) {
                throw StoreError.conflict("the audit events to remove do not verify: \(problem)")
            }
            try await connection.query("DELETE FROM audit_events WHERE seq <= \(last.seq)", logger: logger)
            let batch = AuditPruneBatch(count: removed.count, anchor: AuditAnchor(seq: last.seq, hash: last.hash))
            let value = batch.anchor.description
            try await connection.query(
                "INSERT INTO settings (name, value) VALUES ('audit_anchor', \(value)) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                logger: logger
            )
            let event = AuditChain.prunedEvent(count: batch.count, anchor: batch.anchor, details: details, at: time)
            try await Self.append(AuditRecord(events: [event], key: key), connection, logger)
            return batch
        }
    }

    static func anchor(_ connection: PostgresConnection, _ logger: Logger) async throws -> AuditAnchor? {
        try await Self.rows(connection, "SELECT value FROM settings WHERE name = 'audit_anchor'", logger: logger).first
            .map { AuditAnchor.stored(try $0["value"].decode(String.self)) }
    }
}
