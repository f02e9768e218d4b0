public import AgentAuthCore
public import Foundation
import GRDB

/// The usage verifiers report, counted per agent, credential and hour, and the quotas it uses up
/// (`LimitsStore`). A report arrives every second from every verifier: one write transaction,
/// cached statements, one query for the quotas of all the agents and keys in it.
extension SQLiteStore {
    public func recordUsage(_ report: UsageReport, at: Date) async throws -> [QuotaExhaustion]? {
        let counts = report.mergedCounts
        let hour = Quota.Period.hour.start(of: at).timeIntervalSince1970
        return try await write { db in
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO usage_batches (batch_id, received_at) VALUES (?, ?)")
                .execute(arguments: [report.batchID, at.timeIntervalSince1970])
            guard db.changesCount == 1 else { return nil }
            let upsert = try db.cachedStatement(
                sql: """
                    INSERT INTO usage_counts (agent_id, credential_id, hour, requests, rate_limited) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (agent_id, credential_id, hour)
                    DO UPDATE SET requests = requests + excluded.requests, rate_limited = rate_limited + excluded.rate_limited
                    """
            )
            for count in counts {
                try upsert.execute(arguments: [count.agentID, count.credentialID, hour, count.requests, count.rateLimited])
            }
            return try Self.recordExhaustions(
                agentIDs: Array(Set(counts.map(\.agentID))),
                keyIDs: Array(Set(counts.map(\.credentialID))),
                at: at,
                db
            )
        }
    }

    public func usage(agentID: String, since: Date) async throws -> UsageSummary {
        let hour = Quota.Period.hour.start(of: since)
        return try await read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT credential_id, SUM(requests) AS requests, SUM(rate_limited) AS rate_limited FROM usage_counts
                    WHERE agent_id = ? AND hour >= ? GROUP BY credential_id
                    """,
                arguments: [agentID, hour.timeIntervalSince1970]
            )
            var summary = UsageSummary(agentID: agentID, since: hour, requests: 0, rateLimited: 0, byCredential: [:])
            for row in rows {
                let requests: Int = row["requests"]
                summary.requests += requests
                summary.rateLimited += row["rate_limited"] as Int
                summary.byCredential[row["credential_id"]] = requests
            }
            return summary
        }
    }

    public func pruneUsage(batchesBefore: Date, countsBefore: Date) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM usage_batches WHERE received_at < ?", arguments: [batchesBefore.timeIntervalSince1970])
            try db.execute(sql: "DELETE FROM usage_counts WHERE hour < ?", arguments: [countsBefore.timeIntervalSince1970])
            // An exhaustion matters until its period ends; one that ended before the oldest
            // counts kept can never be found again.
            try db.execute(sql: "DELETE FROM quota_exhaustions WHERE until <= ?", arguments: [countsBefore.timeIntervalSince1970])
        }
    }
}
