public import AgentAuthCore
public import Foundation
import Logging
import PostgresNIO

/// Agents and their delegation policy (`AgentStore`).
extension PostgresStore {
    public func insertAgent(_ agent: Agent, audit: AuditRecord?) async throws {
        try await transaction(audited: audit) { connection, logger in
            try await Self.requireTier(agent.rateLimit, connection, logger)
            try await Self.insert(agent, connection, logger)
        }
    }

    public func agent(id: String) async throws -> Agent? {
        try await rows("SELECT * FROM agents WHERE id = \(id)").first.map(Self.agent)
    }

    public func agents(limit: Int, offset: Int) async throws -> [Agent] {
        try await rows("SELECT * FROM agents ORDER BY created_at, id LIMIT \(limit) OFFSET \(offset)").map(Self.agent)
    }

    public func setAgentStatus(id: String, status: Agent.Status, at: Date, audit: AuditRecord?) async throws -> Agent? {
        try await transaction { [logger] connection in
            let seconds = at.timeIntervalSince1970
            let raw = status.rawValue
            if status == .disabled {
                let updated = try await Self.rows(
                    connection,
                    "UPDATE agents SET status = \(raw), disabled_at = GREATEST(COALESCE(disabled_at, 0), \(seconds)) WHERE id = \(id) RETURNING id",
                    logger: logger
                )
                if !updated.isEmpty {
                    try await Self.insert(RevocationEvent(kind: .agent, subject: id, agentID: id, at: at), connection, logger)
                    try await Self.notify(.revocation, connection, logger)
                }
            } else {
                try await connection.query("UPDATE agents SET status = \(raw) WHERE id = \(id)", logger: logger)
                try await Self.notify(.credentials, connection, logger)
            }
            guard let agent = try await Self.rows(connection, "SELECT * FROM agents WHERE id = \(id)", logger: logger).first.map(Self.agent) else {
                return nil
            }
            try await Self.append(audit, connection, logger)
            return agent
        }
    }

    public func updateAgent(_ agent: Agent, expecting previous: Agent?, at: Date, audit: AuditRecord?) async throws -> Agent? {
        try await transaction { [logger] connection in
            let current = try await Self.rows(connection, "SELECT * FROM agents WHERE id = \(agent.id) FOR UPDATE", logger: logger)
            guard let old = try current.first.map(Self.agent) else { return nil }
            if let previous, old.name != previous.name || old.rateLimit != previous.rateLimit || old.quota != previous.quota {
                throw StoreError.changedMeanwhile
            }
            try await Self.requireTier(agent.rateLimit, connection, logger)
            let (quotaRequests, quotaPeriod) = (agent.quota?.requests, agent.quota?.period.rawValue)
            let updated = try await Self.rows(
                connection,
                """
                UPDATE agents SET name = \(agent.name), rate_limit = \(agent.rateLimit), quota_requests = \(quotaRequests), quota_period = \(quotaPeriod)
                WHERE id = \(agent.id) RETURNING *
                """,
                logger: logger
            )
            try await Self.publish(RevocationEvent(kind: .limits, subject: agent.id, agentID: agent.id, at: at), connection, logger)
            try await Self.recheckQuota(of: agent.id, isAgent: true, old: old.quota, new: agent.quota, at: at, connection, logger)
            try await Self.append(audit, connection, logger)
            return try Self.agent(updated[0])
        }
    }

    public func setDelegationPolicy(agentID: String, mayAct: [String]?, audit: AuditRecord?) async throws -> Bool {
        let text = try mayAct.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        return try await transaction { [logger] connection in
            guard try await !Self.rows(connection, "UPDATE agents SET may_act = \(text) WHERE id = \(agentID) RETURNING id", logger: logger).isEmpty
            else { return false }
            try await Self.append(audit, connection, logger)
            return true
        }
    }

    public func delegationPolicy(agentID: String) async throws -> [String]? {
        guard let row = try await rows("SELECT may_act FROM agents WHERE id = \(agentID)").first,
            let text = try row["may_act"].decode(String?.self)
        else { return nil }
        return (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
    }
}
