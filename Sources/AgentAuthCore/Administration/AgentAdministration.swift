public import Foundation

/// The admin operations on agents, shared by the HTTP admin API and the CLI so
/// that both validate and store exactly the same way. Every change is stored in one transaction
/// with its audit event, made for the `AuditActor` that asked for it.
public struct AgentAdministration: Sendable {
    public let store: any AgentAuthStore
    let now: @Sendable () -> Date

    public init(store: any AgentAuthStore, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.now = now
    }

    // MARK: Bootstrap

    /// Creates the bootstrap admin agent, its `admin` key and the first signing key (sealed under
    /// `masterKey`) when the store is new, with the audit chain's first event, `store.initialized`
    /// (keyed from `masterKey`). Returns `nil`, changing nothing, when it was already initialised.
    public func initialize(masterKey: MasterKey, algorithm: SigningAlgorithm = .eddsa) async throws -> (agent: Agent, adminKey: IssuedAPIKey)? {
        let agent = Agent(id: Identifier.make(prefix: Identifier.agentPrefix), name: "admin", status: .active, createdAt: now())
        let key = APIKeyAdministration.makeKey(
            agentID: agent.id,
            name: "bootstrap admin key",
            scopes: ScopeSet([.admin]),
            rateLimit: nil,
            expiresAt: nil,
            createdAt: now()
        )
        let (material, privateKey) = try await SigningKeyMaterial.generate(algorithm)
        let signingKey = try material.record(privateKey: privateKey, masterKey: masterKey, createdAt: now())
        let audit = AuditActor.commandLine(chainKey: AuditChainKey(masterKey: masterKey)).record(
            AuditChain.initializationType,
            agentID: agent.id,
            credentialID: key.record.id,
            details: ["signing_key": signingKey.kid],
            at: now()
        )
        guard try await store.initialize(admin: agent, adminKey: key.record, signingKey: signingKey, audit: audit) else { return nil }
        return (agent, key)
    }

    // MARK: Agents

    /// A new agent, optionally with a rate-limit tier and a quota across all of its credentials.
    public func createAgent(name: String, rateLimit: String? = nil, quota: Quota? = nil, by actor: AuditActor) async throws -> Agent {
        let name = try Self.validatedName(name, field: "name", maxLength: Agent.maxNameLength)
        let rateLimit = try rateLimit.map(RateLimitAdministration.validatedAssignment)
        let quota = try quota.map(RateLimitAdministration.validatedQuota)
        let agent = Agent(
            id: Identifier.make(prefix: Identifier.agentPrefix),
            name: name,
            status: .active,
            createdAt: now(),
            rateLimit: rateLimit,
            quota: quota
        )
        var details = ["name": name]
        if let rateLimit { details["rate_limit"] = rateLimit }
        if let quota { details["quota"] = RateLimitAdministration.auditValue(quota) }
        let audit = actor.record(.agentCreated, agentID: agent.id, credentialID: nil, details: details, at: now())
        try await RateLimitAdministration.mappingUndefinedTier(rateLimit) { try await store.insertAgent(agent, audit: audit) }
        return agent
    }

    public func agent(id: String) async throws -> Agent {
        guard Identifier.isValid(id, prefix: Identifier.agentPrefix), let agent = try await store.agent(id: id) else {
            throw AdministrationError.notFound("no such agent")
        }
        return agent
    }

    public func agents(limit: Int = 100, offset: Int = 0) async throws -> [Agent] {
        guard (1...1000).contains(limit) else { throw AdministrationError.invalidRequest("limit must be between 1 and 1000") }
        guard offset >= 0 else { throw AdministrationError.invalidRequest("offset must not be negative") }
        return try await store.agents(limit: limit, offset: offset)
    }

    /// Disabling refuses every key (and, later, token) of the agent from the next request on.
    public func setStatus(agentID: String, _ status: Agent.Status, by actor: AuditActor) async throws -> Agent {
        let at = now()
        let audit = actor.record(status == .disabled ? .agentDisabled : .agentEnabled, agentID: agentID, credentialID: nil, at: at)
        guard Identifier.isValid(agentID, prefix: Identifier.agentPrefix),
            let agent = try await store.setAgentStatus(id: agentID, status: status, at: at, audit: audit)
        else {
            throw AdministrationError.notFound("no such agent")
        }
        return agent
    }

    // MARK: Helpers

    static func validatedName(_ value: String, field: String, maxLength: Int) throws -> String {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= maxLength else {
            throw AdministrationError.invalidRequest("\(field) must be 1 to \(maxLength) characters")
        }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw AdministrationError.invalidRequest("\(field) must not contain control characters")
        }
        return trimmed
    }
}
