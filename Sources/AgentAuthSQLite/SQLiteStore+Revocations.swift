public import AgentAuthCore
public import Foundation
import GRDB

/// The revocation feed (`RevocationStore`).
extension SQLiteStore {
    public func revokeToken(jti: String, agentID: String, expiresAt: Date, at: Date, audit: AuditRecord?) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO revocation_events (kind, subject, agent_id, at, expires_at) VALUES ('token', ?, ?, ?, ?)",
                arguments: [jti, agentID, at.timeIntervalSince1970, expiresAt.timeIntervalSince1970]
            )
            guard db.changesCount == 1 else { return false }
            try Self.append(audit, db)
            return true
        }
    }

    public func revocations(after cursor: Int64, limit: Int) async throws -> [RevocationEvent] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM revocation_events WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [cursor, limit]).map { row in
                let kind: String = row["kind"]
                return RevocationEvent(
                    seq: row["seq"],
                    kind: RevocationEvent.Kind(rawValue: kind) ?? .token,
                    subject: row["subject"],
                    agentID: row["agent_id"],
                    at: Self.date(row["at"])!,
                    expiresAt: Self.date(row["expires_at"])
                )
            }
        }
    }

    public func latestStoredRevocation() async throws -> Int64 {
        try await read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM revocation_events") ?? 0 }
    }

    public func revocationBounds() async throws -> (oldest: Int64, latest: Int64) {
        try await read { db in
            // One aggregate per subquery: SQLite answers a lone MIN or MAX of the rowid from the
            // b-tree's ends, but MIN and MAX together in one SELECT scan the whole table, which
            // took ~90 ms with a million revoked tokens, every 100 ms (the revocation sync).
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT COALESCE((SELECT MIN(seq) FROM revocation_events), 0) AS oldest,
                           COALESCE((SELECT MAX(seq) FROM revocation_events), 0) AS latest
                    """
            )
            let sequence = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'revocation_events'") ?? 0
            return (row?["oldest"] ?? 0, max(row?["latest"] ?? 0, sequence))
        }
    }

    public func pruneRevocations(expiredBefore: Date, olderThan: Date) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    DELETE FROM revocation_events
                    WHERE (kind IN ('token', 'quota') AND expires_at < ?) OR (kind <> 'token' AND at < ?)
                    """,
                arguments: [expiredBefore.timeIntervalSince1970, olderThan.timeIntervalSince1970]
            )
        }
    }
}
