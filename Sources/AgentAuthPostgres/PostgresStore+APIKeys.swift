public import AgentAuthCore
public import Foundation
import Logging
import PostgresNIO

/// API keys (`APIKeyStore`).
extension PostgresStore {
    public func insertAPIKey(_ key: APIKey, audit: AuditRecord?) async throws {
        try await transaction(audited: audit) { connection, logger in
            try await Self.requireTier(key.rateLimit, connection, logger)
            try await Self.insert(key, connection, logger)
        }
    }

    public func apiKey(id: String) async throws -> APIKey? {
        try await rows("SELECT * FROM api_keys WHERE id = \(id)").first.map(Self.apiKey)
    }

    public func apiKeys(agentID: String) async throws -> [APIKey] {
        try await rows("SELECT * FROM api_keys WHERE agent_id = \(agentID) ORDER BY created_at, id").map(Self.apiKey)
    }

    public func apiKeyWithAgent(hash: String) async throws -> (key: APIKey, agent: Agent)? {
        let query: PostgresQuery = """
            SELECT k.*, \(unescaped: Self.joinedAgentColumns) FROM api_keys k JOIN agents a ON a.id = k.agent_id WHERE k.key_hash = \(hash)
            """
        guard let row = try await rows(query).first else { return nil }
        return (try Self.apiKey(row), try Self.joinedAgent(row))
    }

    public func revokeAPIKey(id: String, at: Date, audit: AuditRecord?) async throws -> APIKey? {
        try await transaction { [logger] connection in
            let seconds = at.timeIntervalSince1970
            let updated = try await Self.rows(
                connection,
                "UPDATE api_keys SET status = 'revoked', revoked_at = \(seconds) WHERE id = \(id) AND status <> 'revoked' RETURNING agent_id",
                logger: logger
            )
            if let row = updated.first {
                let agentID = try row["agent_id"].decode(String.self)
                try await Self.insert(RevocationEvent(kind: .apiKey, subject: id, agentID: agentID, at: at), connection, logger)
                try await Self.notify(.revocation, connection, logger)
            }
            guard let key = try await Self.rows(connection, "SELECT * FROM api_keys WHERE id = \(id)", logger: logger).first.map(Self.apiKey) else {
                return nil
            }
            try await Self.append(audit, connection, logger)
            return key
        }
    }

    public func rollAPIKey(id: String, replacement: APIKey, graceUntil: Date, at: Date, audit: AuditRecord?) async throws -> APIKey {
        try await transaction { [logger] connection in
            guard let row = try await Self.rows(connection, "SELECT * FROM api_keys WHERE id = \(id) FOR UPDATE", logger: logger).first else {
                throw StoreError.notFound("no such key")
            }
            let old = try Self.apiKey(row)
            guard old.status == .active else { throw StoreError.conflict("the key is revoked") }
            guard !old.isExpired(at: at) else { throw StoreError.conflict("the key has expired") }
            guard old.replacedBy == nil else { throw StoreError.conflict("the key was already rolled") }
            try await Self.insert(replacement, connection, logger)
            let expiry = min(old.expiresAt ?? graceUntil, graceUntil).timeIntervalSince1970
            let replacementID = replacement.id
            try await connection.query("UPDATE api_keys SET expires_at = \(expiry), replaced_by = \(replacementID) WHERE id = \(id)", logger: logger)
            try await Self.insert(RevocationEvent(kind: .apiKey, subject: id, agentID: old.agentID, at: at), connection, logger)
            try await Self.notify(.revocation, connection, logger)
            try await Self.append(audit, connection, logger)
            return try Self.apiKey(try await Self.rows(connection, "SELECT * FROM api_keys WHERE id = \(id)", logger: logger)[0])
        }
    }

    public func updateAPIKey(_ key: APIKey, expecting previous: APIKey?, at: Date, audit: AuditRecord?) async throws -> APIKey? {
        try await transaction { [logger] connection in
            let current = try await Self.rows(connection, "SELECT * FROM api_keys WHERE id = \(key.id) FOR UPDATE", logger: logger)
            guard let old = try current.first.map(Self.apiKey) else { return nil }
            if let previous,
                old.name != previous.name || old.scopes != previous.scopes || old.rateLimit != previous.rateLimit || old.quota != previous.quota
            {
                throw StoreError.changedMeanwhile
            }
            try await Self.requireTier(key.rateLimit, connection, logger)
            let (scopes, quotaRequests, quotaPeriod) = (key.scopes.description, key.quota?.requests, key.quota?.period.rawValue)
            let updated = try await Self.rows(
                connection,
                """
                UPDATE api_keys SET name = \(key.name), scopes = \(scopes), rate_limit = \(key.rateLimit), quota_requests = \(quotaRequests),
                    quota_period = \(quotaPeriod)
                WHERE id = \(key.id) RETURNING *
                """,
                logger: logger
            )
            // Cached verification results carry the old scopes: verifiers drop them.
            try await Self.publish(RevocationEvent(kind: .apiKey, subject: key.id, agentID: old.agentID, at: at), connection, logger)
            try await Self.publish(RevocationEvent(kind: .limits, subject: key.id, agentID: old.agentID, at: at), connection, logger)
            try await Self.recheckQuota(of: key.id, isAgent: false, old: old.quota, new: key.quota, at: at, connection, logger)
            try await Self.append(audit, connection, logger)
            return try Self.apiKey(updated[0])
        }
    }

    public func recordAPIKeyUsage(_ usage: [String: Date]) async throws {
        guard !usage.isEmpty else { return }
        try await transaction { [logger] connection in
            for (id, date) in usage.sorted(by: { $0.key < $1.key }) {
                let seconds = date.timeIntervalSince1970
                try await connection.query(
                    "UPDATE api_keys SET last_used_at = GREATEST(COALESCE(last_used_at, 0), \(seconds)) WHERE id = \(id)",
                    logger: logger
                )
            }
        }
    }
}
