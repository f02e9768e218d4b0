public import Foundation

/// The admin operations on agents and keys, shared by the HTTP admin API and the CLI so
/// that both validate and store exactly the same way. Every change is stored in one transaction
/// with its audit event, made for the `AuditActor` that asked for it.
public struct AgentAdministration: Sendable {
    public let store: any AgentAuthStore
    let now: @Sendable () -> Date

    /// Longest key lifetime and roll grace accepted, in seconds (10 years and 30 days).
    public static let maxExpiresIn = 10 * 365 * 24 * 3600
    public static let maxGraceSeconds = 30 * 24 * 3600
    /// Longest key name accepted.
    public static let maxKeyNameLength = 200

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
        let key = makeKey(agentID: agent.id, name: "bootstrap admin key", scopes: ScopeSet([.admin]), rateLimit: .unlimited, expiresAt: nil)
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

    public func createAgent(name: String, by actor: AuditActor) async throws -> Agent {
        let name = try Self.validatedName(name, field: "name", maxLength: Agent.maxNameLength)
        let agent = Agent(id: Identifier.make(prefix: Identifier.agentPrefix), name: name, status: .active, createdAt: now())
        try await store.insertAgent(
            agent,
            audit: actor.record("agent.created", agentID: agent.id, credentialID: nil, details: ["name": name], at: now())
        )
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
        let audit = actor.record(status == .disabled ? "agent.disabled" : "agent.enabled", agentID: agentID, credentialID: nil, at: at)
        guard Identifier.isValid(agentID, prefix: Identifier.agentPrefix),
            let agent = try await store.setAgentStatus(id: agentID, status: status, at: at, audit: audit)
        else {
            throw AdministrationError.notFound("no such agent")
        }
        return agent
    }

    /// Which agents may act for `agentID` in token exchange; `nil` allows any. Every listed id
    /// must be an existing agent.
    public func setDelegationPolicy(agentID: String, mayAct: [String]?, by actor: AuditActor) async throws -> [String]? {
        _ = try await agent(id: agentID)
        var unique: [String]?
        if let mayAct {
            guard mayAct.count <= 1000 else { throw AdministrationError.invalidRequest("may_act lists at most 1000 agents") }
            var seen: [String] = []
            for id in mayAct where !seen.contains(id) {
                guard Identifier.isValid(id, prefix: Identifier.agentPrefix), try await store.agent(id: id) != nil else {
                    throw AdministrationError.invalidRequest("may_act names an unknown agent")
                }
                seen.append(id)
            }
            unique = seen
        }
        let audit = actor.record(
            "agent.delegation_policy",
            agentID: agentID,
            credentialID: nil,
            details: ["may_act": unique?.joined(separator: " ") ?? "*"],
            at: now()
        )
        guard try await store.setDelegationPolicy(agentID: agentID, mayAct: unique, audit: audit) else {
            throw AdministrationError.notFound("no such agent")
        }
        return unique
    }

    // MARK: API keys

    public func createAPIKey(agentID: String, _ request: APIKeyRequest, by actor: AuditActor) async throws -> IssuedAPIKey {
        let scopes: ScopeSet
        do {
            scopes = try ScopeSet(validating: request.scopes)
        } catch {
            throw AdministrationError.invalidRequest("scopes: \(error)")
        }
        let name = try request.name.map { try Self.validatedName($0, field: "name", maxLength: Self.maxKeyNameLength) }
        let rateLimit = try request.rateLimit.map(Self.validatedTier) ?? .standard
        let created = now()
        var expiresAt: Date?
        if let expiresIn = request.expiresIn {
            guard (1...Self.maxExpiresIn).contains(expiresIn) else {
                throw AdministrationError.invalidRequest("expires_in must be between 1 and \(Self.maxExpiresIn) seconds")
            }
            expiresAt = created.addingTimeInterval(TimeInterval(expiresIn))
        }
        let agent = try await agent(id: agentID)
        guard agent.status == .active else { throw AdministrationError.conflict("agent is disabled") }
        let key = makeKey(agentID: agent.id, name: name, scopes: scopes, rateLimit: rateLimit, expiresAt: expiresAt, createdAt: created)
        let audit = actor.record("key.created", agentID: agent.id, credentialID: key.record.id, details: ["scope": scopes.description], at: created)
        try await mapStoreErrors { try await store.insertAPIKey(key.record, audit: audit) }
        return key
    }

    public func apiKeys(agentID: String) async throws -> [APIKey] {
        let agent = try await agent(id: agentID)
        return try await store.apiKeys(agentID: agent.id)
    }

    public func apiKey(id: String) async throws -> APIKey {
        guard Identifier.isValid(id, prefix: Identifier.apiKeyPrefix), let key = try await store.apiKey(id: id) else {
            throw AdministrationError.notFound("no such key")
        }
        return key
    }

    public func revokeAPIKey(id: String, by actor: AuditActor) async throws -> APIKey {
        let existing = try await apiKey(id: id)
        let at = now()
        let audit = actor.record("key.revoked", agentID: existing.agentID, credentialID: existing.id, at: at)
        guard let key = try await store.revokeAPIKey(id: existing.id, at: at, audit: audit) else {
            throw AdministrationError.notFound("no such key")
        }
        return key
    }

    /// Issues a replacement with the same agent, scopes, name, tier and lifetime length; the
    /// old key keeps working for `graceSeconds` (0: it stops at once), never longer than it would have.
    public func rollAPIKey(id: String, graceSeconds: Int, by actor: AuditActor) async throws -> (replacement: IssuedAPIKey, previous: APIKey) {
        guard (0...Self.maxGraceSeconds).contains(graceSeconds) else {
            throw AdministrationError.invalidRequest("grace_seconds must be between 0 and \(Self.maxGraceSeconds)")
        }
        let old = try await apiKey(id: id)
        guard try await agent(id: old.agentID).status == .active else { throw AdministrationError.conflict("agent is disabled") }
        let rolledAt = now()
        let expiresAt = old.expiresAt.map { rolledAt.addingTimeInterval($0.timeIntervalSince(old.createdAt)) }
        let replacement = makeKey(
            agentID: old.agentID,
            name: old.name,
            scopes: old.scopes,
            rateLimit: old.rateLimit,
            expiresAt: expiresAt,
            createdAt: rolledAt
        )
        let audit = actor.record(
            "key.rolled",
            agentID: old.agentID,
            credentialID: old.id,
            details: ["replacement": replacement.record.id, "grace_seconds": String(graceSeconds)],
            at: rolledAt
        )
        let previous = try await mapStoreErrors {
            try await store.rollAPIKey(
                id: old.id,
                replacement: replacement.record,
                graceUntil: rolledAt.addingTimeInterval(TimeInterval(graceSeconds)),
                at: rolledAt,
                audit: audit
            )
        }
        return (replacement, previous)
    }

    // MARK: Helpers

    private func makeKey(
        agentID: String,
        name: String?,
        scopes: ScopeSet,
        rateLimit: RateLimitTier,
        expiresAt: Date?,
        createdAt: Date? = nil
    )
        -> IssuedAPIKey
    {
        let plaintext = SecretFormat.apiKey.generate()
        let record = APIKey(
            id: Identifier.make(prefix: Identifier.apiKeyPrefix),
            agentID: agentID,
            name: name,
            keyHash: SecretFormat.storageHash(plaintext),
            display: SecretFormat.apiKey.display(plaintext),
            scopes: scopes,
            rateLimit: rateLimit,
            status: .active,
            createdAt: createdAt ?? now(),
            expiresAt: expiresAt
        )
        return IssuedAPIKey(record: record, plaintext: plaintext)
    }

    private func mapStoreErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as StoreError where error.kind == .notFound {
            throw AdministrationError.notFound(error.reason)
        } catch let error as StoreError where error.kind == .conflict {
            throw AdministrationError.conflict(error.reason)
        }
    }

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

    static func validatedTier(_ value: String) throws -> RateLimitTier {
        guard let tier = RateLimitTier(rawValue: value) else {
            let names = RateLimitTier.allCases.map(\.rawValue).joined(separator: ", ")
            throw AdministrationError.invalidRequest("rate_limit must be one of: \(names)")
        }
        return tier
    }
}
