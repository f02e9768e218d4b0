public import AgentAuthCore
public import Foundation
import Logging
import PostgresNIO

/// The revocation feed (`RevocationStore`).
extension PostgresStore {
    public func revokeToken(jti: String, agentID: String, expiresAt: Date, at: Date, audit: AuditRecord?) async throws -> Bool {
        let seconds = at.timeIntervalSince1970
        let expiry = expiresAt.timeIntervalSince1970
        return try await transaction { [logger] connection in
            try await Self.lockFeed(connection, logger)
            let inserted = try await Self.rows(
                connection,
                """
                INSERT INTO revocation_events (kind, subject, agent_id, at, expires_at) VALUES ('token', \(jti), \(agentID), \(seconds), \(expiry))
                ON CONFLICT DO NOTHING RETURNING seq
                """,
                logger: logger
            )
            guard !inserted.isEmpty else { return false }
            try await Self.notify(.revocation, connection, logger)
            try await Self.append(audit, connection, logger)
            return true
        }
    }

    public func revocations(after cursor: Int64, limit: Int) async throws -> [RevocationEvent] {
        try await rows("SELECT * FROM revocation_events WHERE seq > \(cursor) ORDER BY seq LIMIT \(limit)").map { row in
            RevocationEvent(
                seq: try row["seq"].decode(Int64.self),
                kind: RevocationEvent.Kind(rawValue: try row["kind"].decode(String.self)) ?? .token,
                subject: try row["subject"].decode(String.self),
                agentID: try row["agent_id"].decode(String?.self),
                at: Date(timeIntervalSince1970: try row["at"].decode(Double.self)),
                expiresAt: try row["expires_at"].decode(Double?.self).map(Date.init(timeIntervalSince1970:))
            )
        }
    }

    public func latestStoredRevocation() async throws -> Int64 {
        try await rows("SELECT COALESCE(MAX(seq), 0)::BIGINT AS latest FROM revocation_events").first?["latest"].decode(Int64.self) ?? 0
    }

    public func revocationBounds() async throws -> (oldest: Int64, latest: Int64) {
        // The sequence's last value, not MAX(seq): pruning must never move the latest back.
        let query: PostgresQuery = """
            SELECT COALESCE((SELECT MIN(seq) FROM revocation_events), 0) AS oldest,
                   (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM revocation_events_seq_seq) AS latest
            """
        guard let row = try await rows(query).first else { return (0, 0) }
        return (try row["oldest"].decode(Int64.self), try row["latest"].decode(Int64.self))
    }

    public func pruneRevocations(expiredBefore: Date, olderThan: Date) async throws {
        let expired = expiredBefore.timeIntervalSince1970
        let old = olderThan.timeIntervalSince1970
        _ = try await rows(
            """
            DELETE FROM revocation_events
            WHERE (kind IN ('token', 'quota') AND expires_at < \(expired)) OR (kind <> 'token' AND at < \(old))
            """
        )
    }

    /// Appends a feed event and tells every node (at commit), inside the caller's transaction.
    static func publish(_ event: RevocationEvent, _ connection: PostgresConnection, _ logger: Logger) async throws {
        try await insert(event, connection, logger)
        try await notify(.revocation, connection, logger)
    }
}
