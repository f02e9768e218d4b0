public import AgentAuthCore
public import Foundation
import Logging
import PostgresNIO

/// The usage verifiers report, counted per agent, credential and hour, and the quotas it uses up
/// (`LimitsStore`). A report arrives every second from every verifier of every node: one
/// transaction, the counts written in one statement, the quotas of all the agents and keys in it
/// checked in another.
extension PostgresStore {
    public func recordUsage(_ report: UsageReport, at: Date) async throws -> [QuotaExhaustion]? {
        let counts = report.mergedCounts
        let hour = Quota.Period.hour.start(of: at).timeIntervalSince1970
        let received = at.timeIntervalSince1970
        return try await transaction { [logger] connection in
            let batch = try await Self.rows(
                connection,
                "INSERT INTO usage_batches (batch_id, received_at) VALUES (\(report.batchID), \(received)) ON CONFLICT DO NOTHING RETURNING batch_id",
                logger: logger
            )
            guard !batch.isEmpty, !counts.isEmpty else { return batch.isEmpty ? nil : [] }
            let agentIDs = counts.map(\.agentID)
            let credentialIDs = counts.map(\.credentialID)
            let requests = counts.map { Int64($0.requests) }
            let rateLimited = counts.map { Int64($0.rateLimited) }
            // Sorted (`mergedCounts`): writers on several nodes lock the rows in the same order.
            try await connection.query(
                """
                INSERT INTO usage_counts (agent_id, credential_id, hour, requests, rate_limited)
                SELECT c.agent_id, c.credential_id, \(hour), c.requests, c.rate_limited
                FROM UNNEST(\(agentIDs)::TEXT[], \(credentialIDs)::TEXT[], \(requests)::BIGINT[], \(rateLimited)::BIGINT[])
                    AS c (agent_id, credential_id, requests, rate_limited)
                ON CONFLICT (agent_id, credential_id, hour) DO UPDATE
                SET requests = usage_counts.requests + EXCLUDED.requests, rate_limited = usage_counts.rate_limited + EXCLUDED.rate_limited
                """,
                logger: logger
            )
            return try await Self.recordExhaustions(
                agentIDs: Array(Set(agentIDs)),
                keyIDs: Array(Set(credentialIDs)),
                at: at,
                connection,
                logger
            )
        }
    }

    public func usage(agentID: String, since: Date) async throws -> UsageSummary {
        let hour = Quota.Period.hour.start(of: since)
        let rows = try await rows(
            """
            SELECT credential_id, SUM(requests)::BIGINT AS requests, SUM(rate_limited)::BIGINT AS rate_limited FROM usage_counts
            WHERE agent_id = \(agentID) AND hour >= \(hour.timeIntervalSince1970) GROUP BY credential_id
            """
        )
        var summary = UsageSummary(agentID: agentID, since: hour, requests: 0, rateLimited: 0, byCredential: [:])
        for row in rows {
            let requests = try row["requests"].decode(Int.self)
            summary.requests += requests
            summary.rateLimited += try row["rate_limited"].decode(Int.self)
            summary.byCredential[try row["credential_id"].decode(String.self)] = requests
        }
        return summary
    }

    public func pruneUsage(batchesBefore: Date, countsBefore: Date) async throws {
        let batches = batchesBefore.timeIntervalSince1970
        let counts = countsBefore.timeIntervalSince1970
        try await transaction { [logger] connection in
            try await connection.query("DELETE FROM usage_batches WHERE received_at < \(batches)", logger: logger)
            try await connection.query("DELETE FROM usage_counts WHERE hour < \(counts)", logger: logger)
            // An exhaustion matters until its period ends; one that ended before the oldest
            // counts kept can never be found again.
            try await connection.query("DELETE FROM quota_exhaustions WHERE until <= \(counts)", logger: logger)
        }
    }
}
