import Foundation

extension AgentAdministration {
    /// Changes an agent's name, tier or quota (a field the update leaves out is kept). An update
    /// that changes nothing stores nothing and records no event. The `agent.updated` event lists
    /// the fields changed with their new values.
    public func updateAgent(id: String, _ update: AgentUpdate, by actor: AuditActor) async throws -> Agent {
        // Made from the record as read; if another change lands in between, read it again.
        try await AdministrationError.retryingWhenChangedMeanwhile {
            let existing = try await agent(id: id)
            var updated = existing
            switch update.name {
            case .unchanged: break
            case .removed: throw AdministrationError.invalidRequest("name cannot be removed")
            case .set(let value): updated.name = try Self.validatedName(value, field: "name", maxLength: Agent.maxNameLength)
            }
            updated.rateLimit = try update.rateLimit.map(RateLimitAdministration.validatedAssignment).applied(to: existing.rateLimit)
            updated.quota = try update.quota.map(RateLimitAdministration.validatedQuota).applied(to: existing.quota)
            var details: [String: String] = [:]
            if updated.name != existing.name { details["name"] = updated.name }
            if updated.rateLimit != existing.rateLimit { details["rate_limit"] = RateLimitAdministration.auditValue(updated.rateLimit) }
            if updated.quota != existing.quota { details["quota"] = RateLimitAdministration.auditValue(updated.quota) }
            guard !details.isEmpty else { return existing }
            let at = now()
            let audit = actor.record(.agentUpdated, agentID: existing.id, credentialID: nil, details: details, at: at)
            guard
                let stored = try await RateLimitAdministration.mappingUndefinedTier(
                    updated.rateLimit,
                    { try await store.updateAgent(updated, expecting: existing, at: at, audit: audit) }
                )
            else { throw AdministrationError.notFound("no such agent") }
            return stored
        }
    }

    /// What an agent used in the current `period` (UTC), as verifiers reported it.
    public func usage(agentID: String, period: Quota.Period = .day) async throws -> UsageSummary {
        let agent = try await agent(id: agentID)
        return try await store.usage(agentID: agent.id, since: period.start(of: now()))
    }
}
