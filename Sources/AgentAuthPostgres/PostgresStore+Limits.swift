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
            throw StoreError.unknownRateLimitTier
        }
    }

    /// After a quota changed from `old` to `new`: the subject's exhaustions are dropped, and
    /// recorded again (with a `.quota` event) when this period's usage already uses up the new one.
    static func recheckQuota(
        of subject: String,
        isAgent: Bool,
        old: Quota?,
        new: Quota?,
        at: Date,
        _ connection: PostgresConnection,
        _ logger: Logger
    ) async throws {
        guard old != new else { return }
        try await connection.query("DELETE FROM quota_exhaustions WHERE subject = \(subject)", logger: logger)
        if new != nil {
            _ = try await recordExhaustions(agentIDs: isAgent ? [subject] : [], keyIDs: isAgent ? [] : [subject], at: at, connection, logger)
        }
    }

    /// Of these agents and (live) API keys, those with a quota that their usage in the period
    /// holding `at` reaches, and that is not yet recorded as used up: each is recorded, with a
    /// `.quota` feed event, and returned. One statement finds and records them all, summing the
    /// usage only of those not found before in this period; a node recording the same at the
    /// same moment waits on the row and then records nothing (`ON CONFLICT`).
    static func recordExhaustions(
        agentIDs: [String],
        keyIDs: [String],
        at: Date,
        _ connection: PostgresConnection,
        _ logger: Logger
    ) async throws -> [QuotaExhaustion] {
        guard !agentIDs.isEmpty || !keyIDs.isEmpty else { return [] }
        let bounds = [Quota.Period.hour, .day, .month].map { ($0.start(of: at).timeIntervalSince1970, $0.end(of: at).timeIntervalSince1970) }
        let recorded = try await rows(
            connection,
            """
            WITH periods (name, start, until) AS (
                VALUES ('hour', \(bounds[0].0), \(bounds[0].1)), ('day', \(bounds[1].0), \(bounds[1].1)), ('month', \(bounds[2].0), \(bounds[2].1))
            ),
            subjects AS (
                SELECT a.id AS subject, a.id AS agent_id, a.quota_requests AS quota, p.start, p.until,
                       (SELECT COALESCE(SUM(c.requests), 0)::BIGINT FROM usage_counts c
                        WHERE c.agent_id = a.id AND c.hour >= p.start AND c.hour < p.until
                          AND NOT EXISTS (SELECT 1 FROM quota_exhaustions e WHERE e.subject = a.id AND e.period_start = p.start)) AS used
                FROM agents a JOIN periods p ON p.name = a.quota_period
                WHERE a.id = ANY(\(agentIDs)) AND a.quota_requests IS NOT NULL
                UNION ALL
                SELECT k.id, k.agent_id, k.quota_requests, p.start, p.until,
                       (SELECT COALESCE(SUM(c.requests), 0)::BIGINT FROM usage_counts c
                        WHERE c.credential_id = k.id AND c.hour >= p.start AND c.hour < p.until
                          AND NOT EXISTS (SELECT 1 FROM quota_exhaustions e WHERE e.subject = k.id AND e.period_start = p.start))
                FROM api_keys k JOIN periods p ON p.name = k.quota_period
                WHERE k.id = ANY(\(keyIDs)) AND k.quota_requests IS NOT NULL AND k.status <> 'revoked'
            )
            INSERT INTO quota_exhaustions (subject, period_start, agent_id, until, quota, used)
            SELECT subject, start, agent_id, until, quota, used FROM subjects WHERE used >= quota ORDER BY subject
            ON CONFLICT DO NOTHING
            RETURNING *
            """,
            logger: logger
        )
        let exhaustions = try recorded.map(exhaustion).sorted { $0.subject < $1.subject }
        for exhaustion in exhaustions {
            try await publish(
                RevocationEvent(kind: .quota, subject: exhaustion.subject, agentID: exhaustion.agentID, at: at, expiresAt: exhaustion.until),
                connection,
                logger
            )
        }
        return exhaustions
    }
}
