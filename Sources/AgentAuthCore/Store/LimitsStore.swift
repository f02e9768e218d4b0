public import Foundation

/// Rate-limit tiers, and the usage verifiers report, per agent and credential, with the quotas
/// it uses up. Assignments live on the agents, keys and clients themselves.
public protocol LimitsStore: Sendable {
    /// Creates or replaces the tier named `tier.name` and appends a `.limits` feed event, in one
    /// transaction. Returns `true` when the tier is new.
    func putRateLimitTier(_ tier: RateLimitTier, audit: AuditRecord?) async throws -> Bool
    /// Every tier, by name.
    func rateLimitTiers() async throws -> [RateLimitTier]
    func rateLimitTier(name: String) async throws -> RateLimitTier?
    /// Deletes a tier and appends a `.limits` feed event. Throws `StoreError.conflict` while an
    /// agent, key or client is assigned it (a revoked key holds nothing back); returns `false`
    /// when there is no such tier.
    func deleteRateLimitTier(name: String, audit: AuditRecord?) async throws -> Bool

    /// The tiers, the assignments of every agent, live key and client that has a tier or quota
    /// (`unlimited` is no tier: it is left out), and the quotas used up for a period that has not
    /// ended at `now`.
    func limitsSnapshot(now: Date) async throws -> LimitsSnapshot

    /// Counts a verifier's report at `at` (into the hour that holds it), once: returns `nil`,
    /// changing nothing, when a report with this batch id was already counted. Then checks the
    /// quotas of the agents and API keys in it against their period's total: each quota newly
    /// used up is recorded with a `.quota` feed event (subject the agent or key id, `expiresAt`
    /// the period's end), all in the same transaction, and returned.
    func recordUsage(_ report: UsageReport, at: Date) async throws -> [QuotaExhaustion]?
    /// What an agent used from `since` (rounded down to the hour) on.
    func usage(agentID: String, since: Date) async throws -> UsageSummary
    /// Forgets batch ids recorded before `batchesBefore` and counts of hours before `countsBefore`.
    func pruneUsage(batchesBefore: Date, countsBefore: Date) async throws
}
