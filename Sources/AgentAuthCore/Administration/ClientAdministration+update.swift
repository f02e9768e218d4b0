import Foundation

extension ClientAdministration {
    /// Changes a client's `client_name`, scope (narrowing only) or tier. An update that changes
    /// nothing stores nothing and records no event. The `client.updated` event lists the fields
    /// changed with their new values.
    public func updateClient(id: String, _ update: ClientUpdate, by actor: AuditActor) async throws -> OAuthClient {
        // Made from the record as read; if another change lands in between, read it again.
        try await AdministrationError.retryingWhenChangedMeanwhile {
            let existing = try await client(id: id)
            var updated = existing
            updated.name = try update.name.map {
                try AgentAdministration.validatedName($0, field: "client_name", maxLength: Self.maxClientNameLength)
            }
            .applied(to: existing.name)
            if let scope = update.scope {
                updated.scopes = try existing.scopes.narrowed(
                    by: { try ScopeSet(parsing: scope) },
                    field: "scope",
                    alternative: "register a new client to add one"
                )
            }
            updated.rateLimit = try update.rateLimit.map(RateLimitAdministration.validatedAssignment).applied(to: existing.rateLimit)
            var details: [String: String] = [:]
            if updated.name != existing.name { details["client_name"] = updated.name ?? RateLimitAdministration.noneValue }
            if updated.scopes != existing.scopes { details["scope"] = updated.scopes.description }
            if updated.rateLimit != existing.rateLimit { details["rate_limit"] = RateLimitAdministration.auditValue(updated.rateLimit) }
            guard !details.isEmpty else { return existing }
            let at = now()
            let audit = actor.record(.clientUpdated, agentID: existing.agentID, credentialID: existing.clientID, details: details, at: at)
            guard
                let stored = try await RateLimitAdministration.mappingUndefinedTier(
                    updated.rateLimit,
                    { try await store.updateClient(updated, expecting: existing, at: at, audit: audit) }
                )
            else { throw AdministrationError.notFound("no such client") }
            return stored
        }
    }

    /// Disabling answers the client `invalid_client` at the token endpoint and refuses, everywhere,
    /// every token it was issued until now (also after it is enabled again, as for agents).
    public func setClientStatus(id: String, _ status: OAuthClient.Status, by actor: AuditActor) async throws -> OAuthClient {
        let existing = try await client(id: id)
        let at = now()
        let audit = actor.record(
            status == .disabled ? .clientDisabled : .clientEnabled,
            agentID: existing.agentID,
            credentialID: existing.clientID,
            at: at
        )
        guard let client = try await store.setClientStatus(id: existing.clientID, status: status, at: at, audit: audit) else {
            throw AdministrationError.notFound("no such client")
        }
        return client
    }

    /// Deletes a client: it can no longer authenticate, and its tokens issued until now are refused
    /// everywhere. Returns the deleted client.
    @discardableResult
    public func deleteClient(id: String, by actor: AuditActor) async throws -> OAuthClient {
        let existing = try await client(id: id)
        let at = now()
        let audit = actor.record(.clientDeleted, agentID: existing.agentID, credentialID: existing.clientID, at: at)
        guard let client = try await store.deleteClient(id: existing.clientID, at: at, audit: audit) else {
            throw AdministrationError.notFound("no such client")
        }
        return client
    }

    /// Revokes every token the client was issued until now, wherever it is presented (a `.client`
    /// watermark in the feed, as a disable writes), leaving the client able to get new ones.
    /// Returns the client.
    @discardableResult
    public func revokeTokens(clientID id: String, by actor: AuditActor) async throws -> OAuthClient {
        let existing = try await client(id: id)
        let at = now()
        let audit = actor.record(.clientTokensRevoked, agentID: existing.agentID, credentialID: existing.clientID, at: at)
        guard let client = try await store.revokeClientTokens(id: existing.clientID, at: at, audit: audit) else {
            throw AdministrationError.notFound("no such client")
        }
        return client
    }
}
