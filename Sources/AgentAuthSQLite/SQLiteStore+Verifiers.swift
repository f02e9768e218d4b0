public import AgentAuthCore
public import Foundation
import GRDB

/// The verifier registry (`VerifierStore`): one row per follower instance, written by each of its polls.
extension SQLiteStore {
    public func recordVerifierPoll(_ verifier: Verifier, limitPerAgent: Int) async throws -> Verifier.Registration {
        try await write { db in
            let seen = verifier.lastSeen.timeIntervalSince1970
            let owner = try String.fetchOne(db.cachedStatement(sql: "SELECT agent_id FROM verifiers WHERE id = ?"), arguments: [verifier.id])
            if let owner, owner != verifier.agentID { return .idTaken }
            if owner == nil {
                let registered = try Int.fetchOne(
                    db,
                    sql: "SELECT COUNT(*) FROM verifiers WHERE agent_id = ? AND last_seen >= ?",
                    arguments: [verifier.agentID, seen - Verifier.goneAfter]
                )
                guard (registered ?? 0) < limitPerAgent else { return .limitReached }
            }
            try db.cachedStatement(
                sql: """
                    INSERT INTO verifiers (id, name, agent_id, cursor, last_seen, first_seen, bound_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET name = excluded.name, cursor = excluded.cursor,
                        last_seen = MAX(last_seen, excluded.last_seen), bound_ms = excluded.bound_ms
                    """
            ).execute(arguments: [verifier.id, verifier.name, verifier.agentID, verifier.cursor, seen, seen, verifier.boundMilliseconds])
            return .recorded
        }
    }

    public func removeVerifier(id: String, agentID: String) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM verifiers WHERE id = ? AND agent_id = ?", arguments: [id, agentID])
            return db.changesCount > 0
        }
    }

    public func verifiers(seenSince: Date?) async throws -> [Verifier] {
        let since = seenSince?.timeIntervalSince1970 ?? -Double.greatestFiniteMagnitude
        return try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM verifiers WHERE last_seen >= ? ORDER BY first_seen, id", arguments: [since]).map { row in
                Verifier(
                    id: row["id"],
                    name: row["name"],
                    agentID: row["agent_id"],
                    cursor: row["cursor"],
                    lastSeen: Date(timeIntervalSince1970: row["last_seen"]),
                    firstSeen: Date(timeIntervalSince1970: row["first_seen"]),
                    boundMilliseconds: row["bound_ms"]
                )
            }
        }
    }

    public func forgetVerifiers(lastSeenBefore: Date) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM verifiers WHERE last_seen < ?", arguments: [lastSeenBefore.timeIntervalSince1970])
        }
    }
}
