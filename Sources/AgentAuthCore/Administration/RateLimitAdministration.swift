public import Foundation

/// Defining rate-limit tiers, shared by the admin API and the CLI, and the checks every
/// assignment of a tier or quota goes through. Each change is stored with its audit event and a
/// `.limits` feed event in one transaction.
public struct RateLimitAdministration: Sendable {
    public let store: any AgentAuthStore
    let now: @Sendable () -> Date

    /// The largest burst a tier may allow: as many requests as a tier may have per window. A
    /// burst is the number of requests let through at once from rest; more than that is no
    /// longer a rate limit.
    public static let maxBurst = RateLimitTier.maxRequests

    public init(store: any AgentAuthStore, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.now = now
    }

    /// Creates or replaces the tier `name` (the answer is the same either way: `PUT` sets it).
    public func putTier(name: String, requests: Int, windowSeconds: Int, burst: Int?, by actor: AuditActor) async throws -> RateLimitTier {
        guard name != RateLimitTier.unlimitedName else {
            throw AdministrationError.invalidRequest("\(RateLimitTier.unlimitedName) is reserved: it means no limit and needs no definition")
        }
        guard RateLimitTier.isValidName(name) else {
            throw AdministrationError.invalidRequest(
                "a tier name is 1 to \(RateLimitTier.maxNameLength) letters, digits, '.', '_' or '-', starting with a letter"
            )
        }
        guard (1...RateLimitTier.maxRequests).contains(requests) else {
            throw AdministrationError.invalidRequest("requests must be between 1 and \(RateLimitTier.maxRequests)")
        }
        guard (1...RateLimitTier.maxWindowSeconds).contains(windowSeconds) else {
            throw AdministrationError.invalidRequest("window_seconds must be between 1 and \(RateLimitTier.maxWindowSeconds)")
        }
        if let burst, !(1...Self.maxBurst).contains(burst) {
            throw AdministrationError.invalidRequest("burst must be between 1 and \(Self.maxBurst)")
        }
        let tier = RateLimitTier(name: name, requests: requests, windowSeconds: windowSeconds, burst: burst)
        let audit = actor.record(
            .rateLimitSet,
            agentID: nil,
            credentialID: nil,
            details: ["name": name, "requests": String(requests), "window_seconds": String(windowSeconds), "burst": String(tier.burst)],
            at: now()
        )
        _ = try await store.putRateLimitTier(tier, audit: audit)
        return tier
    }

    /// Every defined tier, by name (`unlimited` is never defined).
    public func tiers() async throws -> [RateLimitTier] {
        try await store.rateLimitTiers().sorted { $0.name < $1.name }
    }

    /// `unlimited` is never defined: not found, as a name no tier can have.
    public func tier(name: String) async throws -> RateLimitTier {
        guard name != RateLimitTier.unlimitedName, RateLimitTier.isValidName(name), let tier = try await store.rateLimitTier(name: name) else {
            throw AdministrationError.notFound("no such rate limit")
        }
        return tier
    }

    /// Deletes a tier; refused (conflict) while an agent, key or client is assigned it.
    public func deleteTier(name: String, by actor: AuditActor) async throws {
        guard name != RateLimitTier.unlimitedName, RateLimitTier.isValidName(name) else { throw AdministrationError.notFound("no such rate limit") }
        let audit = actor.record(.rateLimitDeleted, agentID: nil, credentialID: nil, details: ["name": name], at: now())
        let deleted: Bool
        do {
            deleted = try await store.deleteRateLimitTier(name: name, audit: audit)
        } catch let error as StoreError where error.kind == .conflict {
            throw AdministrationError.conflict("rate limit \(name) is assigned: \(error.reason)")
        }
        guard deleted else { throw AdministrationError.notFound("no such rate limit") }
    }

    // MARK: Assignments

    /// A tier name to assign: of the right form (`unlimited` included).
    static func validatedAssignment(_ value: String) throws -> String {
        try APIKeyAdministration.validatedTierName(value)
    }

    /// A quota of a size the stores and verifiers count.
    static func validatedQuota(_ quota: Quota) throws -> Quota {
        guard (1...Quota.maxRequests).contains(quota.requests) else {
            throw AdministrationError.invalidRequest("quota.requests must be between 1 and \(Quota.maxRequests)")
        }
        return quota
    }

    static func undefinedTier(_ name: String) -> AdministrationError {
        .invalidRequest("rate_limit names a tier that is not defined: \(name)")
    }

    /// Runs a store write that assigns the tier `name` (`nil`: none). The store checks that the
    /// tier is defined in the write's own transaction (so a tier deleted meanwhile is never
    /// assigned) and throws `StoreError.notFound` when it is not: here that is a bad request, since
    /// the request names something that does not exist, not a missing agent, key or client (those
    /// are checked before, or are the store's `nil`).
    static func mappingUndefinedTier<T>(_ name: String?, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as StoreError where error.kind == .notFound {
            guard let name, name != RateLimitTier.unlimitedName else { throw error }
            throw undefinedTier(name)
        }
    }

    /// How a change of tier or quota is written in an audit event's details.
    static func auditValue(_ tier: String?) -> String { tier ?? noneValue }
    static func auditValue(_ quota: Quota?) -> String { quota.map { "\($0.requests)/\($0.period.rawValue)" } ?? noneValue }
    /// A removed tier or quota; not a tier name (those start with a letter), so never ambiguous.
    static let noneValue = "(none)"
}
