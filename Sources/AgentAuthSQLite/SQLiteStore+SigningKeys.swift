public import AgentAuthCore
public import Foundation
import GRDB

/// Token-signing keys (`SigningKeyStore`).
extension SQLiteStore {
    public func insertSigningKey(_ key: SigningKey) async throws {
        try await write { db in try Self.insert(key, db) }
    }

    public func signingKeys() async throws -> [SigningKey] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM signing_keys ORDER BY created_at, kid").map(Self.signingKey)
        }
    }

    public func rotateSigningKey(to newKey: SigningKey, retiredAt: Date, publishedUntil: Date, audit: AuditRecord?) async throws {
        try await write { db in
            let retiring = try String.fetchAll(db, sql: "SELECT kid FROM signing_keys WHERE status = 'active'")
            // A hand-over of an earlier rotation still to come: the latest rotation decides.
            try db.execute(
                sql: "UPDATE signing_keys SET retired_at = ? WHERE status = 'retired' AND retired_at > ?",
                arguments: [retiredAt.timeIntervalSince1970, retiredAt.timeIntervalSince1970]
            )
            try db.execute(
                sql: "UPDATE signing_keys SET status = 'retired', retired_at = ?, published_until = ? WHERE status = 'active'",
                arguments: [retiredAt.timeIntervalSince1970, publishedUntil.timeIntervalSince1970]
            )
            try Self.insert(newKey, db)
            try Self.insert(RevocationEvent(kind: .signingKey, subject: newKey.kid, agentID: nil, at: retiredAt), db)
            for kid in retiring {
                try Self.insert(RevocationEvent(kind: .signingKey, subject: kid, agentID: nil, at: retiredAt, expiresAt: publishedUntil), db)
            }
            try Self.append(audit, db)
        }
    }
}
