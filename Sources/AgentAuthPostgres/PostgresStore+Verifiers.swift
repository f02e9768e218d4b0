public import AgentAuthCore
public import Foundation
import Logging
import PostgresNIO

/// The verifier registry (`VerifierStore`): one row per follower instance, written by each of its
/// polls at whichever node it follows, read by every node that waits for acknowledgements.
extension PostgresStore {
    public func recordVerifierPoll(_ verifier: Verifier, limitPerAgent: Int) async throws -> Verifier.Registration {
        let seen = verifier.lastSeen.timeIntervalSince1970
        let bound = Int64(verifier.boundMilliseconds)
        return try await transaction { [logger] connection in
            let owner = try await Self.rows(connection, "SELECT agent_id FROM verifiers WHERE id = \(verifier.id)", logger: logger)
                .first.map { try $0["agent_id"].decode(String.self) }
            if let owner, owner != verifier.agentID { return .idTaken }
            if owner == nil {
                let since = seen - Verifier.goneAfter
                let registered = try await Self.rows(
                    connection,
                    "SELECT COUNT(*)::BIGINT AS n FROM verifiers WHERE agent_id = \(verifier.agentID) AND last_seen >= \(since)",
                    logger: logger
                )
                guard try (registered.first?["n"].decode(Int.self) ?? 0) < limitPerAgent else { return .limitReached }
            }
            // The condition covers another agent's first poll under the same id committing meanwhile.
            let written = try await Self.rows(
                connection,
                """
                INSERT INTO verifiers (id, name, agent_id, cursor, last_seen, first_seen, bound_ms)
                VALUES (\(verifier.id), \(verifier.name), \(verifier.agentID), \(verifier.cursor), \(seen), \(seen), \(bound))
                ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, cursor = EXCLUDED.cursor,
                    last_seen = GREATEST(verifiers.last_seen, EXCLUDED.last_seen), bound_ms = EXCLUDED.bound_ms
                WHERE verifiers.agent_id = EXCLUDED.agent_id
                RETURNING id
                """,
                logger: logger
            )
            return written.isEmpty ? .idTaken : .recorded
        }
    }

    public func removeVerifier(id: String, agentID: String) async throws -> Bool {
        try await !rows("DELETE FROM verifiers WHERE id = \(id) AND agent_id = \(agentID) RETURNING id").isEmpty
    }

    public func verifiers(seenSince: Date?) async throws -> [Verifier] {
        let since = seenSince?.timeIntervalSince1970 ?? -Double.greatestFiniteMagnitude
        return try await rows("SELECT * FROM verifiers WHERE last_seen >= \(since) ORDER BY first_seen, id").map { row in
            Verifier(
                id: try row["id"].decode(String.self),
                name: try row["name"].decode(String.self),
                agentID: try row["agent_id"].decode(String.self),
                cursor: try row["cursor"].decode(Int64.self),
                lastSeen: Date(timeIntervalSince1970: try row["last_seen"].decode(Double.self)),
                firstSeen: Date(timeIntervalSince1970: try row["first_seen"].decode(Double.self)),
                boundMilliseconds: Int(try row["bound_ms"].decode(Int64.self))
            )
        }
    }

    public func forgetVerifiers(lastSeenBefore: Date) async throws {
        let before = lastSeenBefore.timeIntervalSince1970
        _ = try await rows("DELETE FROM verifiers WHERE last_seen < \(before)")
    }
}
