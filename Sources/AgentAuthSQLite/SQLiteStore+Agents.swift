public import AgentAuthCore
public import Foundation
import GRDB

/// Agents and their delegation policy (`AgentStore`).
extension SQLiteStore {
    public func insertAgent(_ agent: Agent, audit: AuditRecord?) async throws {
        try await write(audited: audit) { db in
            try Self.requireTier(agent.rateLimit, db)
            try Self.insert(agent, db)
        }
    }

    public func agent(id: String) async throws -> Agent? {
        try readOne { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM agents WHERE id = ?"), arguments: [id]).map(Self.agent)
        }
    }

    public func agents(limit: Int, offset: Int) async throws -> [Agent] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM agents ORDER BY created_at, id LIMIT ? OFFSET ?", arguments: [limit, offset])
                .map(Self.agent)
        }
    }

    public func setAgentStatus(id: String, status: Agent.Status, at: Date, audit: AuditRecord?) async throws -> Agent? {
        try await write { db in
            if status == .disabled {
                try db.execute(
                    sql: "UPDATE agents SET status = ?, disabled_at = MAX(COALESCE(disabled_at, 0), ?) WHERE id = ?",
                    arguments: [status.rawValue, at.timeIntervalSince1970, id]
                )
                if db.changesCount > 0 {
                    try Self.insert(RevocationEvent(kind: .agent, subject: id, agentID: id, at: at), db)
                }
            } else {
                try db.execute(sql: "UPDATE agents SET status = ? WHERE id = ?", arguments: [status.rawValue, id])
            }
            guard let agent = try Row.fetchOne(db, sql: "SELECT * FROM agents WHERE id = ?", arguments: [id]).map(Self.agent) else { return nil }
            try Self.append(audit, db)
            return agent
        }
    }

    public func updateAgent(_ agent: Agent, expecting previous: Agent?, at: Date, audit: AuditRecord?) async throws -> Agent? {
        try await write { db in
            guard let old = try Row.fetchOne(db, sql: "SELECT * FROM agents WHERE id = ?", arguments: [agent.id]).map(Self.agent) else {
                return nil
            }
            if let previous, old.name != previous.name || old.rateLimit != previous.rateLimit || old.quota != previous.quota {
                throw StoreError.changedMeanwhile
            }
            try Self.requireTier(agent.rateLimit, db)
            try db.execute(
                sql: "UPDATE agents SET name = ?, rate_limit = ?, quota_requests = ?, quota_period = ? WHERE id = ?",
                arguments: [agent.name, agent.rateLimit, agent.quota?.requests, agent.quota?.period.rawValue, agent.id]
            )
            try Self.insert(RevocationEvent(kind: .limits, subject: agent.id, agentID: agent.id, at: at), db)
            try Self.recheckQuota(of: agent.id, isAgent: true, old: old.quota, new: agent.quota, at: at, db)
            try Self.append(audit, db)
            return try Row.fetchOne(db, sql: "SELECT * FROM agents WHERE id = ?", arguments: [agent.id]).map(Self.agent)
        }
    }

    public func setDelegationPolicy(agentID: String, mayAct: [String]?, audit: AuditRecord?) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "UPDATE agents SET may_act = ? WHERE id = ?", arguments: [try mayAct.map(Self.json), agentID])
            guard db.changesCount > 0 else { return false }
            try Self.append(audit, db)
            return true
        }
    }

    public func delegationPolicy(agentID: String) async throws -> [String]? {
        try await read { db in
            guard let text = try String.fetchOne(db, sql: "SELECT may_act FROM agents WHERE id = ?", arguments: [agentID]) else { return nil }
            // An unreadable policy allows nobody: fail closed.
            return (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
        }
    }
}
