public import AgentAuthCore
public import Foundation
import GRDB

/// Rate-limit tiers, the limits snapshot verifiers enforce, and the quota checks every change of
/// usage or of a quota makes (`LimitsStore`).
extension SQLiteStore {
    public func putRateLimitTier(_ tier: RateLimitTier, audit: AuditRecord?) async throws -> Bool {
        try await write { db in
            let isNew = try Self.tier(named: tier.name, db) == nil
            try db.execute(
                sql: """
                    INSERT INTO rate_limit_tiers (name, requests, window_seconds, burst) VALUES (?, ?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET requests = excluded.requests, window_seconds = excluded.window_seconds, burst = excluded.burst
                    """,
                arguments: [tier.name, tier.requests, tier.windowSeconds, tier.burst]
            )
            try Self.insert(RevocationEvent(kind: .limits, subject: tier.name, agentID: nil, at: Date()), db)
            try Self.append(audit, db)
            return isNew
        }
    }

    public func rateLimitTiers() async throws -> [RateLimitTier] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM rate_limit_tiers ORDER BY name").map(Self.tier) }
    }

    public func rateLimitTier(name: String) async throws -> RateLimitTier? {
        try await read { db in try Self.tier(named: name, db) }
    }

    public func deleteRateLimitTier(name: String, audit: AuditRecord?) async throws -> Bool {
        try await write { db in
            guard try Self.tier(named: name, db) != nil else { return false }
            // A revoked key can never be used again: its tier holds nothing back.
            let assigned = try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM agents WHERE rate_limit = ?1)
                        OR EXISTS (SELECT 1 FROM api_keys WHERE rate_limit = ?1 AND status <> 'revoked')
                        OR EXISTS (SELECT 1 FROM oauth_clients WHERE rate_limit = ?1)
                    """,
                arguments: [name]
            )
            guard assigned == false else { throw StoreError.conflict("rate-limit tier is assigned") }
            try db.execute(sql: "DELETE FROM rate_limit_tiers WHERE name = ?", arguments: [name])
            try Self.insert(RevocationEvent(kind: .limits, subject: name, agentID: nil, at: Date()), db)
            try Self.append(audit, db)
            return true
        }
    }

    public func limitsSnapshot(now: Date) async throws -> LimitsSnapshot {
        try await read { db in
            var snapshot = LimitsSnapshot()
            for tier in try Row.fetchAll(db, sql: "SELECT * FROM rate_limit_tiers").map(Self.tier) {
                snapshot.tiers[tier.name] = tier
            }
            let assigned = "(rate_limit IS NOT NULL AND rate_limit <> 'unlimited') OR quota_requests IS NOT NULL"
            for row in try Row.fetchAll(db, sql: "SELECT id, rate_limit, quota_requests, quota_period FROM agents WHERE \(assigned)") {
                snapshot.agents[row["id"]] = Self.assignment(row)
            }
            let keys = "SELECT id, rate_limit, quota_requests, quota_period FROM api_keys WHERE status <> 'revoked' AND (\(assigned))"
            for row in try Row.fetchAll(db, sql: keys) {
                snapshot.keys[row["id"]] = Self.assignment(row)
            }
            let clients = "SELECT client_id, rate_limit FROM oauth_clients WHERE rate_limit IS NOT NULL AND rate_limit <> 'unlimited'"
            for row in try Row.fetchAll(db, sql: clients) {
                snapshot.clients[row["client_id"]] = LimitAssignment(rateLimit: row["rate_limit"])
            }
            snapshot.exhausted = try Row.fetchAll(
                db,
                sql: "SELECT * FROM quota_exhaustions WHERE until > ? ORDER BY subject, period_start",
                arguments: [now.timeIntervalSince1970]
            ).map(Self.exhaustion)
            return snapshot
        }
    }

    /// An assignment as verifiers read it: `unlimited` is no tier, so it is left out.
    private static func assignment(_ row: Row) -> LimitAssignment {
        let rateLimit: String? = row["rate_limit"]
        return LimitAssignment(rateLimit: rateLimit == RateLimitTier.unlimitedName ? nil : rateLimit, quota: quota(row))
    }

    static func tier(named name: String, _ db: Database) throws -> RateLimitTier? {
        try Row.fetchOne(db, sql: "SELECT * FROM rate_limit_tiers WHERE name = ?", arguments: [name]).map(tier)
    }

    static func tier(_ row: Row) -> RateLimitTier {
        RateLimitTier(name: row["name"], requests: row["requests"], windowSeconds: row["window_seconds"], burst: row["burst"])
    }

    static func exhaustion(_ row: Row) -> QuotaExhaustion {
        QuotaExhaustion(
            subject: row["subject"],
            agentID: row["agent_id"],
            periodStart: date(row["period_start"])!,
            until: date(row["until"])!,
            quota: row["quota"],
            used: row["used"]
        )
    }

    /// Refuses a tier that is not defined, inside the change's transaction (`unlimited` needs none).
    static func requireTier(_ name: String?, _ db: Database) throws {
        guard let name, name != RateLimitTier.unlimitedName else { return }
        guard try tier(named: name, db) != nil else { throw StoreError.unknownRateLimitTier }
    }

    /// After a quota changed from `old` to `new`: the subject's exhaustions are dropped, and
    /// recorded again (with a `.quota` event) when this period's usage already uses up the new one.
    static func recheckQuota(of subject: String, isAgent: Bool, old: Quota?, new: Quota?, at: Date, _ db: Database) throws {
        guard old != new else { return }
        try db.execute(sql: "DELETE FROM quota_exhaustions WHERE subject = ?", arguments: [subject])
        if new != nil {
            _ = try recordExhaustions(agentIDs: isAgent ? [subject] : [], keyIDs: isAgent ? [] : [subject], at: at, db)
        }
    }

    /// Of these agents and (live) API keys, those with a quota that their usage in the period
    /// holding `at` reaches, and that is not yet recorded as used up: each is recorded, with a
    /// `.quota` feed event, and returned. One query finds them all, summing the usage only of
    /// those not found before in this period.
    static func recordExhaustions(agentIDs: [String], keyIDs: [String], at: Date, _ db: Database) throws -> [QuotaExhaustion] {
        guard !agentIDs.isEmpty || !keyIDs.isEmpty else { return [] }
        let found = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    WITH periods (name, start, until) AS (VALUES ('hour', ?1, ?2), ('day', ?3, ?4), ('month', ?5, ?6)),
                    subjects AS (
                        SELECT a.id AS subject, a.id AS agent_id, a.quota_requests AS quota, p.start, p.until,
                               (SELECT COALESCE(SUM(c.requests), 0) FROM usage_counts c
                                WHERE c.agent_id = a.id AND c.hour >= p.start AND c.hour < p.until
                                  AND NOT EXISTS (SELECT 1 FROM quota_exhaustions e WHERE e.subject = a.id AND e.period_start = p.start)) AS used
                        FROM agents a JOIN periods p ON p.name = a.quota_period
                        WHERE a.id IN (SELECT value FROM json_each(?7)) AND a.quota_requests IS NOT NULL
                        UNION ALL
                        SELECT k.id, k.agent_id, k.quota_requests, p.start, p.until,
                               (SELECT COALESCE(SUM(c.requests), 0) FROM usage_counts c
                                WHERE c.credential_id = k.id AND c.hour >= p.start AND c.hour < p.until
                                  AND NOT EXISTS (SELECT 1 FROM quota_exhaustions e WHERE e.subject = k.id AND e.period_start = p.start))
                        FROM api_keys k JOIN periods p ON p.name = k.quota_period
                        WHERE k.id IN (SELECT value FROM json_each(?8)) AND k.quota_requests IS NOT NULL AND k.status <> 'revoked'
                    )
                    SELECT s.subject, s.agent_id, s.start AS period_start, s.until, s.quota, s.used FROM subjects s
                    WHERE s.used >= s.quota
                      AND NOT EXISTS (SELECT 1 FROM quota_exhaustions e WHERE e.subject = s.subject AND e.period_start = s.start)
                    ORDER BY s.subject
                    """
            ),
            arguments: StatementArguments(periodBounds(at: at)) + [try json(agentIDs), try json(keyIDs)]
        )
        let exhaustions = found.map(exhaustion)
        let insert = try db.cachedStatement(
            sql: "INSERT INTO quota_exhaustions (subject, period_start, agent_id, until, quota, used) VALUES (?, ?, ?, ?, ?, ?)"
        )
        for exhaustion in exhaustions {
            try insert.execute(arguments: [
                exhaustion.subject, exhaustion.periodStart.timeIntervalSince1970, exhaustion.agentID, exhaustion.until.timeIntervalSince1970,
                exhaustion.quota, exhaustion.used,
            ])
            try Self.insert(
                RevocationEvent(kind: .quota, subject: exhaustion.subject, agentID: exhaustion.agentID, at: at, expiresAt: exhaustion.until),
                db
            )
        }
        return exhaustions
    }

    /// The start and end of the hour, day and month holding `at`, in that order.
    static func periodBounds(at: Date) -> [Double] {
        [Quota.Period.hour, .day, .month].flatMap { [$0.start(of: at).timeIntervalSince1970, $0.end(of: at).timeIntervalSince1970] }
    }
}
