public import AgentAuthCore
public import Foundation
import GRDB

/// API keys (`APIKeyStore`).
extension SQLiteStore {
    public func insertAPIKey(_ key: APIKey, audit: AuditRecord?) async throws {
        try await write(audited: audit) { db in
            try Self.requireTier(key.rateLimit, db)
            try Self.insert(key, db)
        }
    }

    public func apiKey(id: String) async throws -> APIKey? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE id = ?", arguments: [id]).map(Self.apiKey)
        }
    }

    public func apiKeys(agentID: String) async throws -> [APIKey] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_keys WHERE agent_id = ? ORDER BY created_at, id", arguments: [agentID])
                .map(Self.apiKey)
        }
    }

    public func apiKeyWithAgent(hash: String) async throws -> (key: APIKey, agent: Agent)? {
        try readOne { db in
            let sql = "SELECT k.*, \(Self.joinedAgentColumns) FROM api_keys k JOIN agents a ON a.id = k.agent_id WHERE k.key_hash = ?"
            guard let row = try Row.fetchOne(db.cachedStatement(sql: sql), arguments: [hash]) else { return nil }
            return (try Self.apiKey(row), Self.joinedAgent(row))
        }
    }

    public func revokeAPIKey(id: String, at: Date, audit: AuditRecord?) async throws -> APIKey? {
        try await write { db in
            try db.execute(
                sql: "UPDATE api_keys SET status = 'revoked', revoked_at = ? WHERE id = ? AND status <> 'revoked'",
                arguments: [at.timeIntervalSince1970, id]
            )
            if db.changesCount > 0, let agentID = try String.fetchOne(db, sql: "SELECT agent_id FROM api_keys WHERE id = ?", arguments: [id]) {
                try Self.insert(RevocationEvent(kind: .apiKey, subject: id, agentID: agentID, at: at), db)
            }
            guard let key = try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE id = ?", arguments: [id]).map(Self.apiKey) else { return nil }
            try Self.append(audit, db)
            return key
        }
    }

    public func rollAPIKey(id: String, replacement: APIKey, graceUntil: Date, at: Date, audit: AuditRecord?) async throws -> APIKey {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE id = ?", arguments: [id]) else {
                throw StoreError.notFound("no such key")
            }
            let old = try Self.apiKey(row)
            guard old.status == .active else { throw StoreError.conflict("the key is revoked") }
            guard !old.isExpired(at: at) else { throw StoreError.conflict("the key has expired") }
            guard old.replacedBy == nil else { throw StoreError.conflict("the key was already rolled") }
            try Self.insert(replacement, db)
            let expiry = min(old.expiresAt ?? graceUntil, graceUntil)
            try db.execute(
                sql: "UPDATE api_keys SET expires_at = ?, replaced_by = ? WHERE id = ?",
                arguments: [expiry.timeIntervalSince1970, replacement.id, id]
            )
            // Its life was shortened: verifiers must drop cached results so the new expiry applies.
            try Self.insert(RevocationEvent(kind: .apiKey, subject: id, agentID: old.agentID, at: at), db)
            try Self.append(audit, db)
            return try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE id = ?", arguments: [id]).map(Self.apiKey)!
        }
    }

    public func updateAPIKey(_ key: APIKey, expecting previous: APIKey?, at: Date, audit: AuditRecord?) async throws -> APIKey? {
        try await write { db in
            guard let old = try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE id = ?", arguments: [key.id]).map(Self.apiKey) else {
                return nil
            }
            if let previous,
                old.name != previous.name || old.scopes != previous.scopes || old.rateLimit != previous.rateLimit || old.quota != previous.quota
            {
                throw StoreError.changedMeanwhile
            }
            try Self.requireTier(key.rateLimit, db)
            try db.execute(
                sql: "UPDATE api_keys SET name = ?, scopes = ?, rate_limit = ?, quota_requests = ?, quota_period = ? WHERE id = ?",
                arguments: [key.name, key.scopes.description, key.rateLimit, key.quota?.requests, key.quota?.period.rawValue, key.id]
            )
            // Cached verification results carry the old scopes: verifiers drop them.
            try Self.insert(RevocationEvent(kind: .apiKey, subject: key.id, agentID: old.agentID, at: at), db)
            try Self.insert(RevocationEvent(kind: .limits, subject: key.id, agentID: old.agentID, at: at), db)
            try Self.recheckQuota(of: key.id, isAgent: false, old: old.quota, new: key.quota, at: at, db)
            try Self.append(audit, db)
            return try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE id = ?", arguments: [key.id]).map(Self.apiKey)
        }
    }

    public func recordAPIKeyUsage(_ usage: [String: Date]) async throws {
        guard !usage.isEmpty else { return }
        try await write { db in
            let statement = try db.makeStatement(
                sql: "UPDATE api_keys SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE id = ?"
            )
            for (id, date) in usage {
                try statement.execute(arguments: [date.timeIntervalSince1970, id])
            }
        }
    }
}
