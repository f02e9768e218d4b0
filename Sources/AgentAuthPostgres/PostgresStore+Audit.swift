public import AgentAuthCore
import Foundation
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
        let previous: (seq: Int64, hash: String)? = try last.map { (try $0["seq"].decode(Int64.self), try $0["hash"].decode(String.self)) }
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
}
