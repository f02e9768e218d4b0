public import AgentAuthCore
public import Foundation
import Logging
import PostgresNIO

/// OAuth clients and their assertion replay cache (`OAuthClientStore`).
extension PostgresStore {
    public func insertClient(_ client: OAuthClient, audit: AuditRecord?) async throws {
        try await transaction(audited: audit) { connection, logger in
            try await Self.requireTier(client.rateLimit, connection, logger)
            try await Self.insert(client, connection, logger)
        }
    }

    public func client(id: String) async throws -> OAuthClient? {
        try await rows("SELECT * FROM oauth_clients WHERE client_id = \(id)").first.map(Self.client)
    }

    /// One query, the client joined with its agent: client authentication reads both on every token request.
    public func clientWithAgent(id: String) async throws -> (client: OAuthClient, agent: Agent)? {
        let query: PostgresQuery = """
            SELECT c.*, \(unescaped: Self.joinedAgentColumns) FROM oauth_clients c JOIN agents a ON a.id = c.agent_id WHERE c.client_id = \(id)
            """
        guard let row = try await rows(query).first else { return nil }
        return (try Self.client(row), try Self.joinedAgent(row))
    }

    public func clients(agentID: String) async throws -> [OAuthClient] {
        try await rows("SELECT * FROM oauth_clients WHERE agent_id = \(agentID) ORDER BY created_at, client_id").map(Self.client)
    }

    public func updateClient(_ client: OAuthClient, expecting previous: OAuthClient?, at: Date, audit: AuditRecord?) async throws -> OAuthClient? {
        try await transaction { [logger] connection in
            let id = client.clientID
            let current = try await Self.rows(connection, "SELECT * FROM oauth_clients WHERE client_id = \(id) FOR UPDATE", logger: logger)
            guard let old = try current.first.map(Self.client) else { return nil }
            if let previous, old.name != previous.name || old.scopes != previous.scopes || old.rateLimit != previous.rateLimit {
                throw StoreError.changedMeanwhile
            }
            try await Self.requireTier(client.rateLimit, connection, logger)
            let scopes = client.scopes.description
            let updated = try await Self.rows(
                connection,
                """
                UPDATE oauth_clients SET name = \(client.name), scopes = \(scopes), rate_limit = \(client.rateLimit)
                WHERE client_id = \(client.clientID) RETURNING *
                """,
                logger: logger
            )
            let stored = try Self.client(updated[0])
            try await Self.publish(RevocationEvent(kind: .limits, subject: stored.clientID, agentID: stored.agentID, at: at), connection, logger)
            try await Self.append(audit, connection, logger)
            return stored
        }
    }

    public func setClientStatus(id: String, status: OAuthClient.Status, at: Date, audit: AuditRecord?) async throws -> OAuthClient? {
        let (raw, seconds) = (status.rawValue, at.timeIntervalSince1970)
        return try await transaction { [logger] connection in
            let query: PostgresQuery =
                status == .disabled
                ? """
                UPDATE oauth_clients SET status = \(raw), disabled_at = GREATEST(COALESCE(disabled_at, 0), \(seconds))
                WHERE client_id = \(id) RETURNING *
                """
                : "UPDATE oauth_clients SET status = \(raw) WHERE client_id = \(id) RETURNING *"
            guard let client = try await Self.rows(connection, query, logger: logger).first.map(Self.client) else { return nil }
            if status == .disabled {
                try await Self.publish(RevocationEvent(kind: .client, subject: id, agentID: client.agentID, at: at), connection, logger)
            } else {
                try await Self.notify(.credentials, connection, logger)
            }
            try await Self.append(audit, connection, logger)
            return client
        }
    }

    public func revokeClientTokens(id: String, at: Date, audit: AuditRecord?) async throws -> OAuthClient? {
        try await transaction { [logger] connection in
            let found = try await Self.rows(connection, "SELECT * FROM oauth_clients WHERE client_id = \(id) FOR UPDATE", logger: logger)
            guard let client = try found.first.map(Self.client) else { return nil }
            try await Self.publish(RevocationEvent(kind: .client, subject: id, agentID: client.agentID, at: at), connection, logger)
            try await Self.append(audit, connection, logger)
            return client
        }
    }

    public func deleteClient(id: String, at: Date, audit: AuditRecord?) async throws -> OAuthClient? {
        try await transaction { [logger] connection in
            let deleted = try await Self.rows(connection, "DELETE FROM oauth_clients WHERE client_id = \(id) RETURNING *", logger: logger)
            guard let client = try deleted.first.map(Self.client) else { return nil }
            // Its tokens issued until now are refused everywhere, as for a disabled client.
            try await Self.publish(RevocationEvent(kind: .client, subject: id, agentID: client.agentID, at: at), connection, logger)
            try await Self.append(audit, connection, logger)
            return client
        }
    }

    public func rotateClientSecret(id: String, newSecretHash: String, previousValidUntil: Date, audit: AuditRecord?) async throws -> OAuthClient? {
        let until = previousValidUntil.timeIntervalSince1970
        return try await transaction { [logger] connection in
            let updated = try await Self.rows(
                connection,
                """
                UPDATE oauth_clients SET previous_secret_hash = secret_hash, previous_secret_expires_at = \(until), secret_hash = \(newSecretHash)
                WHERE client_id = \(id) RETURNING *
                """,
                logger: logger
            )
            guard let client = try updated.first.map(Self.client) else { return nil }
            // Other nodes drop what they kept of the client: its old secret stops being the current one.
            try await Self.notify(.credentials, connection, logger)
            try await Self.append(audit, connection, logger)
            return client
        }
    }

    public func maxClientTokenTTL() async throws -> Int {
        try await rows("SELECT COALESCE(MAX(token_ttl), 0) AS ttl FROM oauth_clients").first.map { try $0["ttl"].decode(Int.self) } ?? 0
    }

    public func recordAssertionID(_ jti: String, clientID: String, expiresAt: Date, now: Date) async throws -> Bool {
        try await transaction { [logger] connection in
            let nowSeconds = now.timeIntervalSince1970
            let expiry = expiresAt.timeIntervalSince1970
            try await connection.query("DELETE FROM assertion_ids WHERE expires_at <= \(nowSeconds)", logger: logger)
            let inserted = try await Self.rows(
                connection,
                "INSERT INTO assertion_ids (client_id, jti, expires_at) VALUES (\(clientID), \(jti), \(expiry)) ON CONFLICT DO NOTHING RETURNING jti",
                logger: logger
            )
            return !inserted.isEmpty
        }
    }
}
