public import AgentAuthCore
public import Foundation
import Logging
import PostgresNIO

/// Token-signing keys (`SigningKeyStore`).
extension PostgresStore {
    public func insertSigningKey(_ key: SigningKey) async throws {
        try await transaction { [logger] connection in try await Self.insert(key, connection, logger) }
    }

    public func signingKeys() async throws -> [SigningKey] {
        try await rows("SELECT * FROM signing_keys ORDER BY created_at, kid").map(Self.signingKey)
    }

    public func rotateSigningKey(to newKey: SigningKey, retiredAt: Date, publishedUntil: Date, audit: AuditRecord?) async throws {
        try await transaction { [logger] connection in
            let retired = retiredAt.timeIntervalSince1970
            let until = publishedUntil.timeIntervalSince1970
            // A hand-over of an earlier rotation still to come: the latest rotation decides.
            try await connection.query(
                "UPDATE signing_keys SET retired_at = \(retired) WHERE status = 'retired' AND retired_at > \(retired)",
                logger: logger
            )
            let retiring = try await Self.rows(
                connection,
                "UPDATE signing_keys SET status = 'retired', retired_at = \(retired), published_until = \(until) WHERE status = 'active' RETURNING kid",
                logger: logger
            )
            try await Self.insert(newKey, connection, logger)
            try await Self.insert(RevocationEvent(kind: .signingKey, subject: newKey.kid, agentID: nil, at: retiredAt), connection, logger)
            for row in retiring {
                let kid = try row["kid"].decode(String.self)
                try await Self.insert(
                    RevocationEvent(kind: .signingKey, subject: kid, agentID: nil, at: retiredAt, expiresAt: publishedUntil),
                    connection,
                    logger
                )
            }
            try await Self.notify(.signingKey, connection, logger)
            try await Self.append(audit, connection, logger)
        }
    }
}
