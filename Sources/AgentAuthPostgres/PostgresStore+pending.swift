public import AgentAuthCore
public import Foundation

// TEMPORARY while the store work lands: every method throws, so nothing pretends to work.
extension PostgresStore {
    static let pending = StoreError.unavailable("not implemented yet")
    public func updateAgent(_ agent: Agent, at: Date, audit: AuditRecord?) async throws -> Agent? { throw Self.pending }
    public func updateAPIKey(_ key: APIKey, at: Date, audit: AuditRecord?) async throws -> APIKey? { throw Self.pending }
    public func updateClient(_ client: OAuthClient, at: Date, audit: AuditRecord?) async throws -> OAuthClient? { throw Self.pending }
    public func setClientStatus(id: String, status: OAuthClient.Status, at: Date, audit: AuditRecord?) async throws -> OAuthClient? { throw Self.pending }
    public func deleteClient(id: String, at: Date, audit: AuditRecord?) async throws -> OAuthClient? { throw Self.pending }
    public func putRateLimitTier(_ tier: RateLimitTier, audit: AuditRecord?) async throws -> Bool { throw Self.pending }
    public func rateLimitTiers() async throws -> [RateLimitTier] { throw Self.pending }
    public func rateLimitTier(name: String) async throws -> RateLimitTier? { throw Self.pending }
    public func deleteRateLimitTier(name: String, audit: AuditRecord?) async throws -> Bool { throw Self.pending }
    public func limitsSnapshot(now: Date) async throws -> LimitsSnapshot { throw Self.pending }
    public func recordUsage(_ report: UsageReport, at: Date) async throws -> [QuotaExhaustion]? { throw Self.pending }
    public func usage(agentID: String, since: Date) async throws -> UsageSummary { throw Self.pending }
    public func pruneUsage(batchesBefore: Date, countsBefore: Date) async throws { throw Self.pending }
}
