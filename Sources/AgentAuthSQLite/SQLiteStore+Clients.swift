public import AgentAuthCore
public import Foundation
import GRDB

/// OAuth clients and their assertion replay cache (`OAuthClientStore`).
extension SQLiteStore {
    public func insertClient(_ client: OAuthClient, audit: AuditRecord?) async throws {
        try await write(audited: audit) { db in
            try Self.requireTier(client.rateLimit, db)
            try Self.insert(client, db)
        }
    }

    public func client(id: String) async throws -> OAuthClient? {
        try readOne { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM oauth_clients WHERE client_id = ?"), arguments: [id]).map(Self.client)
        }
    }

    public func clientWithAgent(id: String) async throws -> (client: OAuthClient, agent: Agent)? {
        try readOne { db in
            let sql = "SELECT c.*, \(Self.joinedAgentColumns) FROM oauth_clients c JOIN agents a ON a.id = c.agent_id WHERE c.client_id = ?"
            guard let row = try Row.fetchOne(db.cachedStatement(sql: sql), arguments: [id]) else { return nil }
            return (try Self.client(row), Self.joinedAgent(row))
        }
    }

    public func clients(agentID: String) async throws -> [OAuthClient] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM oauth_clients WHERE agent_id = ? ORDER BY created_at, client_id", arguments: [agentID])
                .map(Self.client)
        }
    }

    public func updateClient(_ client: OAuthClient, expecting previous: OAuthClient?, at: Date, audit: AuditRecord?) async throws -> OAuthClient? {
        try await write { db in
            guard
                let old = try Row.fetchOne(db, sql: "SELECT * FROM oauth_clients WHERE client_id = ?", arguments: [client.clientID]).map(Self.client)
            else { return nil }
            if let previous, old.name != previous.name || old.scopes != previous.scopes || old.rateLimit != previous.rateLimit {
                throw StoreError.changedMeanwhile
            }
            let agentID = old.agentID
            try Self.requireTier(client.rateLimit, db)
            try db.execute(
                sql: "UPDATE oauth_clients SET name = ?, scopes = ?, rate_limit = ? WHERE client_id = ?",
                arguments: [client.name, client.scopes.description, client.rateLimit, client.clientID]
            )
            try Self.insert(RevocationEvent(kind: .limits, subject: client.clientID, agentID: agentID, at: at), db)
            try Self.append(audit, db)
            return try Row.fetchOne(db, sql: "SELECT * FROM oauth_clients WHERE client_id = ?", arguments: [client.clientID]).map(Self.client)
        }
    }

    public func setClientStatus(id: String, status: OAuthClient.Status, at: Date, audit: AuditRecord?) async throws -> OAuthClient? {
        try await write { db in
            if status == .disabled {
                try db.execute(
                    sql: "UPDATE oauth_clients SET status = ?, disabled_at = MAX(COALESCE(disabled_at, 0), ?) WHERE client_id = ?",
                    arguments: [status.rawValue, at.timeIntervalSince1970, id]
                )
            } else {
                try db.execute(sql: "UPDATE oauth_clients SET status = ? WHERE client_id = ?", arguments: [status.rawValue, id])
            }
            guard let client = try Row.fetchOne(db, sql: "SELECT * FROM oauth_clients WHERE client_id = ?", arguments: [id]).map(Self.client)
            else { return nil }
            if status == .disabled {
                try Self.insert(RevocationEvent(kind: .client, subject: id, agentID: client.agentID, at: at), db)
            }
            try Self.append(audit, db)
            return client
        }
    }

    public func revokeClientTokens(id: String, at: Date, audit: AuditRecord?) async throws -> OAuthClient? {
        try await write { db in
            guard let client = try Row.fetchOne(db, sql: "SELECT * FROM oauth_clients WHERE client_id = ?", arguments: [id]).map(Self.client)
            else { return nil }
            try Self.insert(RevocationEvent(kind: .client, subject: id, agentID: client.agentID, at: at), db)
            try Self.append(audit, db)
            return client
        }
    }

    public func deleteClient(id: String, at: Date, audit: AuditRecord?) async throws -> OAuthClient? {
        try await write { db in
            guard let client = try Row.fetchOne(db, sql: "SELECT * FROM oauth_clients WHERE client_id = ?", arguments: [id]).map(Self.client)
            else { return nil }
            try db.execute(sql: "DELETE FROM oauth_clients WHERE client_id = ?", arguments: [id])
            // Its tokens issued until now are refused everywhere, as for a disabled client.
            try Self.insert(RevocationEvent(kind: .client, subject: id, agentID: client.agentID, at: at), db)
            try Self.append(audit, db)
            return client
        }
    }

    public func rotateClientSecret(id: String, newSecretHash: String, previousValidUntil: Date, audit: AuditRecord?) async throws -> OAuthClient? {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE oauth_clients SET previous_secret_hash = secret_hash, previous_secret_expires_at = ?, secret_hash = ?
                    WHERE client_id = ?
                    """,
                arguments: [previousValidUntil.timeIntervalSince1970, newSecretHash, id]
            )
            guard db.changesCount > 0 else { return nil }
            try Self.append(audit, db)
            return try Row.fetchOne(db, sql: "SELECT * FROM oauth_clients WHERE client_id = ?", arguments: [id]).map(Self.client)
        }
    }

    public func maxClientTokenTTL() async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(token_ttl), 0) FROM oauth_clients") ?? 0 }
    }

    public func recordAssertionID(_ jti: String, clientID: String, expiresAt: Date, now: Date) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM assertion_ids WHERE expires_at <= ?", arguments: [now.timeIntervalSince1970])
            try db.execute(
                sql: "INSERT OR IGNORE INTO assertion_ids (client_id, jti, expires_at) VALUES (?, ?, ?)",
                arguments: [clientID, jti, expiresAt.timeIntervalSince1970]
            )
            return db.changesCount == 1
        }
    }
}
