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
        guard try tier(named: name, db) != nil else { throw StoreError.notFound("no such rate-limit tier") }
    }

    /// After a quota changed from `old` to `new`: the subject's exhaustions are dropped, and
    /// recorded again (with a `.quota` event) when this period's usage already uses up the new one.
    static func recheckQuota(subject: Subject, old: Quota?, new: Quota?, at: Date, _ db: Database) throws {
        guard old != new else { return }
        try db.execute(sql: "DELETE FROM quota_exhaustions WHERE subject = ?", arguments: [subject.id])
        if let new {
            _ = try recordExhaustion(of: subject, quota: new, at: at, db)
        }
    }

    /// An agent or API key with a quota.
    struct Subject {
        var id: String
        var agentID: String
        var isAgent: Bool
    }

    /// Records `subject`'s quota as used up for the period holding `at`, with its `.quota` feed
    /// event, when the period's usage reaches it and it was not recorded yet. Answers the new
    /// exhaustion, `nil` otherwise.
    static func recordExhaustion(of subject: Subject, quota: Quota, at: Date, _ db: Database) throws -> QuotaExhaustion? {
        let start = quota.period.start(of: at)
        let end = quota.period.end(of: at)
        let recorded = try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM quota_exhaustions WHERE subject = ? AND period_start = ?)"),
            arguments: [subject.id, start.timeIntervalSince1970]
        )
        guard recorded == false else { return nil }
        let sum =
            subject.isAgent
            ? "SELECT COALESCE(SUM(requests), 0) FROM usage_counts WHERE agent_id = ? AND hour >= ? AND hour < ?"
            : "SELECT COALESCE(SUM(requests), 0) FROM usage_counts WHERE credential_id = ? AND hour >= ? AND hour < ?"
        let used =
            try Int.fetchOne(
                db.cachedStatement(sql: sum),
                arguments: [subject.id, start.timeIntervalSince1970, end.timeIntervalSince1970]
            ) ?? 0
        guard used >= quota.requests else { return nil }
        let exhaustion = QuotaExhaustion(
            subject: subject.id,
            agentID: subject.agentID,
            periodStart: start,
            until: end,
            quota: quota.requests,
            used: used
        )
        try db.cachedStatement(
            sql: "INSERT INTO quota_exhaustions (subject, period_start, agent_id, until, quota, used) VALUES (?, ?, ?, ?, ?, ?)"
        ).execute(arguments: [subject.id, start.timeIntervalSince1970, subject.agentID, end.timeIntervalSince1970, quota.requests, used])
        try insert(RevocationEvent(kind: .quota, subject: subject.id, agentID: subject.agentID, at: at, expiresAt: end), db)
        return exhaustion
    }
}
