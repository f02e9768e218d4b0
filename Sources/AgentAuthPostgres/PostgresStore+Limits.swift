public import AgentAuthCore
public import Foundation
import Logging
import PostgresNIO

/// Rate-limit tiers, the limits snapshot verifiers enforce, and the quota checks every change of
/// usage or of a quota makes (`LimitsStore`).
extension PostgresStore {
    public func putRateLimitTier(_ tier: RateLimitTier, audit: AuditRecord?) async throws -> Bool {
        try await transaction { [logger] connection in
            // xmax is 0 only in a row this statement inserted: new or replaced, told atomically.
            let rows = try await Self.rows(
                connection,
                """
                INSERT INTO rate_limit_tiers (name, requests, window_seconds, burst) VALUES (\(tier.name), \(tier.requests), \(tier.windowSeconds), \(tier.burst))
                ON CONFLICT (name) DO UPDATE SET requests = EXCLUDED.requests, window_seconds = EXCLUDED.window_seconds, burst = EXCLUDED.burst
                RETURNING (xmax = 0) AS inserted
                """,
                logger: logger
            )
            let isNew = try rows.first?["inserted"].decode(Bool.self) ?? false
            try await Self.publish(RevocationEvent(kind: .limits, subject: tier.name, agentID: nil, at: Date()), connection, logger)
            try await Self.append(audit, connection, logger)
            return isNew
        }
    }

    public func rateLimitTiers() async throws -> [RateLimitTier] {
        try await rows("SELECT * FROM rate_limit_tiers ORDER BY name").map(Self.tier)
    }

    public func rateLimitTier(name: String) async throws -> RateLimitTier? {
        try await rows("SELECT * FROM rate_limit_tiers WHERE name = \(name)").first.map(Self.tier)
    }

    public func deleteRateLimitTier(name: String, audit: AuditRecord?) async throws -> Bool {
        try await transaction { [logger] connection in
            // Locked first: a change assigning the tier meanwhile waits (`requireTier`), then
            // finds it gone; one that assigned it already is seen by the check below.
            guard try await !Self.rows(connection, "SELECT 1 FROM rate_limit_tiers WHERE name = \(name) FOR UPDATE", logger: logger).isEmpty
            else { return false }
            // A revoked key can never be used again: its tier holds nothing back.
            let assigned = try await Self.rows(
                connection,
                """
                SELECT EXISTS (SELECT 1 FROM agents WHERE rate_limit = \(name))
                    OR EXISTS (SELECT 1 FROM api_keys WHERE rate_limit = \(name) AND status <> 'revoked')
                    OR EXISTS (SELECT 1 FROM oauth_clients WHERE rate_limit = \(name)) AS assigned
                """,
                logger: logger
            )
            guard try assigned.first?["assigned"].decode(Bool.self) == false else { throw StoreError.conflict("rate-limit tier is assigned") }
            try await connection.query("DELETE FROM rate_limit_tiers WHERE name = \(name)", logger: logger)
            try await Self.publish(RevocationEvent(kind: .limits, subject: name, agentID: nil, at: Date()), connection, logger)
            try await Self.append(audit, connection, logger)
            return true
        }
    }

    public func limitsSnapshot(now: Date) async throws -> LimitsSnapshot {
        let seconds = now.timeIntervalSince1970
        return try await transaction { [logger] connection in
            // Every query of the snapshot sees the same moment.
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            var snapshot = LimitsSnapshot()
            for row in try await Self.rows(connection, "SELECT * FROM rate_limit_tiers", logger: logger) {
                let tier = try Self.tier(row)
                snapshot.tiers[tier.name] = tier
            }
            let agents: PostgresQuery = """
                SELECT id, rate_limit, quota_requests, quota_period FROM agents
                WHERE (rate_limit IS NOT NULL AND rate_limit <> 'unlimited') OR quota_requests IS NOT NULL
                """
            for row in try await Self.rows(connection, agents, logger: logger) {
                snapshot.agents[try row["id"].decode(String.self)] = try Self.assignment(row)
            }
            let keys: PostgresQuery = """
                SELECT id, rate_limit, quota_requests, quota_period FROM api_keys
                WHERE status <> 'revoked' AND ((rate_limit IS NOT NULL AND rate_limit <> 'unlimited') OR quota_requests IS NOT NULL)
                """
            for row in try await Self.rows(connection, keys, logger: logger) {
                snapshot.keys[try row["id"].decode(String.self)] = try Self.assignment(row)
            }
            let clients: PostgresQuery = "SELECT client_id, rate_limit FROM oauth_clients WHERE rate_limit IS NOT NULL AND rate_limit <> 'unlimited'"
            for row in try await Self.rows(connection, clients, logger: logger) {
                snapshot.clients[try row["client_id"].decode(String.self)] = LimitAssignment(rateLimit: try row["rate_limit"].decode(String.self))
            }
            snapshot.exhausted = try await Self.rows(
                connection,
                "SELECT * FROM quota_exhaustions WHERE until > \(seconds) ORDER BY subject, period_start",
                logger: logger
            ).map(Self.exhaustion)
            return snapshot
        }
    }

    /// An assignment as verifiers read it: `unlimited` is no tier, so it is left out.
    private static func assignment(_ row: PostgresRandomAccessRow) throws -> LimitAssignment {
        let rateLimit = try row["rate_limit"].decode(String?.self)
        return LimitAssignment(rateLimit: rateLimit == RateLimitTier.unlimitedName ? nil : rateLimit, quota: try quota(row))
    }

    static func tier(_ row: PostgresRandomAccessRow) throws -> RateLimitTier {
        RateLimitTier(
            name: try row["name"].decode(String.self),
            requests: try row["requests"].decode(Int.self),
            windowSeconds: try row["window_seconds"].decode(Int.self),
            burst: try row["burst"].decode(Int.self)
        )
    }

    static func exhaustion(_ row: PostgresRandomAccessRow) throws -> QuotaExhaustion {
        QuotaExhaustion(
            subject: try row["subject"].decode(String.self),
            agentID: try row["agent_id"].decode(String.self),
            periodStart: try date(row["period_start"])!,
            until: try date(row["until"])!,
            quota: try row["quota"].decode(Int.self),
            used: try row["used"].decode(Int.self)
        )
    }

    /// Refuses a tier that is not defined, inside the change's transaction (`unlimited` needs
    /// none). The tier's row stays share-locked until the change commits, so it can't be deleted
    /// under an assignment (`deleteRateLimitTier`).
    static func requireTier(_ name: String?, _ connection: PostgresConnection, _ logger: Logger) async throws {
        guard let name, name != RateLimitTier.unlimitedName else { return }
        guard try await !rows(connection, "SELECT 1 FROM rate_limit_tiers WHERE name = \(name) FOR SHARE", logger: logger).isEmpty else {
            throw StoreError.notFound("no such rate-limit tier")
        }
    }

    /// After a quota changed from `old` to `new`: the subject's exhaustions are dropped, and
    /// recorded again (with a `.quota` event) when this period's usage already uses up the new one.
    static func recheckQuota(
        subject: Subject,
        old: Quota?,
        new: Quota?,
        at: Date,
        _ connection: PostgresConnection,
        _ logger: Logger
    ) async throws {
        guard old != new else { return }
        try await connection.query("DELETE FROM quota_exhaustions WHERE subject = \(subject.id)", logger: logger)
        if let new {
            _ = try await recordExhaustion(of: subject, quota: new, at: at, connection, logger)
        }
    }

    /// An agent or API key with a quota.
    struct Subject {
        var id: String
        var agentID: String
        var isAgent: Bool
    }

    /// Records `subject`'s quota as used up for the period holding `at`, with its `.quota` feed
    /// event, when the period's usage reaches it and it was not recorded yet (one statement: an
    /// exhaustion already recorded skips the sum). Answers the new exhaustion, `nil` otherwise.
    static func recordExhaustion(
        of subject: Subject,
        quota: Quota,
        at: Date,
        _ connection: PostgresConnection,
        _ logger: Logger
    ) async throws -> QuotaExhaustion? {
        let start = quota.period.start(of: at)
        let end = quota.period.end(of: at)
        let (startSeconds, endSeconds) = (start.timeIntervalSince1970, end.timeIntervalSince1970)
        let column = subject.isAgent ? "agent_id" : "credential_id"
        let inserted = try await rows(
            connection,
            """
            INSERT INTO quota_exhaustions (subject, period_start, agent_id, until, quota, used)
            SELECT \(subject.id), \(startSeconds), \(subject.agentID), \(endSeconds), \(quota.requests), total.used
            FROM (
                SELECT COALESCE(SUM(requests), 0)::BIGINT AS used FROM usage_counts
                WHERE \(unescaped: column) = \(subject.id) AND hour >= \(startSeconds) AND hour < \(endSeconds)
                  AND NOT EXISTS (SELECT 1 FROM quota_exhaustions WHERE subject = \(subject.id) AND period_start = \(startSeconds))
            ) AS total
            WHERE total.used >= \(quota.requests)
            ON CONFLICT DO NOTHING RETURNING used
            """,
            logger: logger
        )
        guard let row = inserted.first else { return nil }
        try await publish(RevocationEvent(kind: .quota, subject: subject.id, agentID: subject.agentID, at: at, expiresAt: end), connection, logger)
        return QuotaExhaustion(
            subject: subject.id,
            agentID: subject.agentID,
            periodStart: start,
            until: end,
            quota: quota.requests,
            used: try row["used"].decode(Int.self)
        )
    }
}
