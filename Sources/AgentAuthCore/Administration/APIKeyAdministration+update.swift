import Foundation

extension APIKeyAdministration {
    /// Changes a key's name, scopes (narrowing only), tier or quota; a revoked key is refused. An
    /// update that changes nothing stores nothing and records no event. The `key.updated` event
    /// lists the fields changed with their new values (never the key).
    public func updateAPIKey(id: String, _ update: APIKeyUpdate, by actor: AuditActor) async throws -> APIKey {
        // Made from the record as read; if another change lands in between, read it again.
        try await AdministrationError.retryingWhenChangedMeanwhile {
            let existing = try await apiKey(id: id)
            guard existing.status == .active else { throw AdministrationError.conflict("the key is revoked") }
            var updated = existing
            updated.name = try update.name.map { try AgentAdministration.validatedName($0, field: "name", maxLength: Self.maxKeyNameLength) }
                .applied(to: existing.name)
            if let requested = update.scopes {
                updated.scopes = try existing.scopes.narrowed(
                    by: { try ScopeSet(validating: requested) },
                    field: "scopes",
                    alternative: "create a new key to add one"
                )
            }
            updated.rateLimit = try update.rateLimit.map(RateLimitAdministration.validatedAssignment).applied(to: existing.rateLimit)
            updated.quota = try update.quota.map(RateLimitAdministration.validatedQuota).applied(to: existing.quota)
            var details: [String: String] = [:]
            if updated.name != existing.name { details["name"] = updated.name ?? RateLimitAdministration.noneValue }
            if updated.scopes != existing.scopes { details["scope"] = updated.scopes.description }
            if updated.rateLimit != existing.rateLimit { details["rate_limit"] = RateLimitAdministration.auditValue(updated.rateLimit) }
            if updated.quota != existing.quota { details["quota"] = RateLimitAdministration.auditValue(updated.quota) }
            guard !details.isEmpty else { return existing }
            let at = now()
            let audit = actor.record(.keyUpdated, agentID: existing.agentID, credentialID: existing.id, details: details, at: at)
            guard
                let stored = try await RateLimitAdministration.mappingUndefinedTier(
                    updated.rateLimit,
                    { try await store.updateAPIKey(updated, expecting: existing, at: at, audit: audit) }
                )
            else { throw AdministrationError.notFound("no such key") }
            return stored
        }
    }
}
