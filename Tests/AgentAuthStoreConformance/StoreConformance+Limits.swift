import AgentAuthCore
import Foundation

/// Rate-limit tiers, the limit fields of agents, keys and clients, their updates, client status,
/// and the limits snapshot.
extension StoreConformance {
    static let limitsCases: [StoreConformanceCase] = [
        .init(description: "limit fields of agents, keys and clients round-trip, also through the joined reads", body: limitFieldsRoundTrip),
        .init(description: "rate-limit tiers: the built-ins, create, replace, list by name, delete with a feed event", body: tierLifecycle),
        .init(description: "a tier is refused while assigned, and an undefined tier can't be assigned", body: tierAssignment),
        .init(description: "agent updates write only the changeable fields, with a limits event", body: agentUpdate),
        .init(description: "key updates write only the changeable fields, with key and limits events", body: keyUpdate),
        .init(description: "client updates write only the changeable fields, with a limits event", body: clientUpdate),
        .init(description: "client disable, enable and delete: the watermark stays, client events tell verifiers", body: clientStatus),
        .init(description: "the limits snapshot: every tier, assigned records only, exhaustions until their period ends", body: limitsSnapshot),
        .init(description: "limits changes store their audit event with them, and only when the change is made", body: auditedLimitChanges),
        .init(description: "an update made from a record changed since it was read is refused and writes nothing", body: staleUpdates),
    ]

    static let gold = RateLimitTier(name: "gold", requests: 10, windowSeconds: 1, burst: 20)

    /// Expects the error every store throws for an undefined tier (a `notFound` callers can tell apart).
    static func expectUnknownTier(_ message: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as StoreError {
            try expect(error == .unknownRateLimitTier, "\(message): expected StoreError.unknownRateLimitTier, got \(error.kind): \(error)")
            return
        }
        throw ConformanceFailure(description: "\(message): expected StoreError.unknownRateLimitTier, nothing was thrown")
    }

    /// The feed events appended after `cursor`.
    static func feed(after cursor: Int64, _ store: any AgentAuthStore) async throws -> [RevocationEvent] {
        try await store.revocations(after: cursor, limit: 1000)
    }

    static func limitFieldsRoundTrip(_ store: any AgentAuthStore) async throws {
        _ = try await store.putRateLimitTier(gold, audit: nil)
        var agent = makeAgent("limited")
        agent.rateLimit = "gold"
        agent.quota = Quota(requests: 1_000_000_000_000, period: .month)
        try await store.insertAgent(agent)
        try expect(try await store.agent(id: agent.id) == agent, "agent with tier and quota")

        var key = makeKey(agentID: agent.id)
        key.rateLimit = nil
        key.quota = Quota(requests: 7, period: .day)
        try await store.insertAPIKey(key)
        try expect(try await store.apiKey(id: key.id) == key, "a key without a tier reads back without one (NULL, not 'unlimited')")
        let joined = try await store.apiKeyWithAgent(hash: key.keyHash)
        try expect(joined?.key == key && joined?.agent == agent, "key and agent read together keep their limits")

        var client = makeClient(agentID: agent.id)
        client.name = "Billing bot ✓"
        client.rateLimit = "unlimited"
        client.status = .disabled
        client.disabledAt = time(3)
        try await store.insertClient(client)
        try expect(try await store.client(id: client.clientID) == client, "client with name, tier, status and watermark")
        let withAgent = try await store.clientWithAgent(id: client.clientID)
        try expect(withAgent?.client == client && withAgent?.agent == agent, "client and agent read together keep their fields")
        let plain = makeClient(agentID: agent.id)
        try await store.insertClient(plain)
        let read = try await store.client(id: plain.clientID)
        try expect(read?.status == .active && read?.name == nil && read?.rateLimit == nil && read?.disabledAt == nil, "defaults")
    }

    static func tierLifecycle(_ store: any AgentAuthStore) async throws {
        let builtIn = RateLimitTier.builtIn.sorted { $0.name < $1.name }
        try expect(try await store.rateLimitTiers() == builtIn, "a new store has the built-in tiers")
        try expect(try await store.rateLimitTier(name: "standard") == RateLimitTier.builtIn[1], "a built-in by name")
        try expect(try await store.rateLimitTier(name: "unlimited") == nil, "unlimited is never defined")
        let cursor = try await store.revocationBounds().latest

        try expect(try await store.putRateLimitTier(gold, audit: nil), "a new tier")
        var changed = gold
        changed.requests = 50
        changed.burst = 5
        try expect(try await !store.putRateLimitTier(changed, audit: nil), "replacing a tier is not new")
        try expect(try await store.rateLimitTier(name: "gold") == changed, "the replacement is stored")
        try expect(try await store.rateLimitTiers().map(\.name) == ["gold", "high", "low", "standard"], "listed by name")

        try expect(try await store.deleteRateLimitTier(name: "gold", audit: nil), "deleted")
        try expect(try await store.rateLimitTier(name: "gold") == nil, "gone")
        try expect(try await !store.deleteRateLimitTier(name: "gold", audit: nil), "deleting what is not there")
        let events = try await feed(after: cursor, store)
        try expect(
            events.map(\.kind) == [.limits, .limits, .limits] && events.allSatisfy { $0.subject == "gold" && $0.agentID == nil },
            "one limits event per change, subject the tier: \(events)"
        )
    }

    static func tierAssignment(_ store: any AgentAuthStore) async throws {
        _ = try await store.putRateLimitTier(gold, audit: nil)
        var undefined = makeAgent()
        undefined.rateLimit = "platinum"
        try await expectUnknownTier("an agent with an undefined tier") { try await store.insertAgent(undefined) }
        try expect(try await store.agent(id: undefined.id) == nil, "nothing stored")
        var agent = makeAgent()
        agent.rateLimit = "unlimited"
        try await store.insertAgent(agent)
        var key = makeKey(agentID: agent.id)
        key.rateLimit = "platinum"
        try await expectUnknownTier("a key with an undefined tier") { try await store.insertAPIKey(key) }
        var client = makeClient(agentID: agent.id)
        client.rateLimit = "platinum"
        try await expectUnknownTier("a client with an undefined tier") { try await store.insertClient(client) }

        // Assigned to each kind of record in turn: the tier stays until nothing uses it.
        agent.rateLimit = "gold"
        _ = try await store.updateAgent(agent, at: time(1), audit: nil)
        try await expectStoreError(.conflict, "assigned to an agent") { _ = try await store.deleteRateLimitTier(name: "gold", audit: nil) }
        agent.rateLimit = nil
        _ = try await store.updateAgent(agent, at: time(2), audit: nil)
        key.rateLimit = "gold"
        try await store.insertAPIKey(key)
        try await expectStoreError(.conflict, "assigned to a key") { _ = try await store.deleteRateLimitTier(name: "gold", audit: nil) }
        _ = try await store.revokeAPIKey(id: key.id, at: time(3))
        client.rateLimit = "gold"
        try await store.insertClient(client)
        let cursor = try await store.revocationBounds().latest
        try await expectStoreError(.conflict, "assigned to a client (a revoked key holds nothing)") {
            _ = try await store.deleteRateLimitTier(name: "gold", audit: nil)
        }
        try expect(try await feed(after: cursor, store).isEmpty, "a refused delete appends nothing")
        try expect(try await store.rateLimitTier(name: "gold") == gold, "a refused delete keeps the tier")
        client.rateLimit = nil
        _ = try await store.updateClient(client, at: time(4), audit: nil)
        try expect(try await store.deleteRateLimitTier(name: "gold", audit: nil), "deleted once nothing uses it")
    }

    static func agentUpdate(_ store: any AgentAuthStore) async throws {
        _ = try await store.putRateLimitTier(gold, audit: nil)
        let stored = makeAgent("before", createdAt: time(1))
        try await store.insertAgent(stored)
        _ = try await store.setAgentStatus(id: stored.id, status: .disabled, at: time(5))
        let cursor = try await store.revocationBounds().latest

        var change = stored
        change.name = "after"
        change.rateLimit = "gold"
        change.quota = Quota(requests: 100, period: .day)
        change.status = .active
        change.createdAt = time(99)
        change.disabledAt = nil
        let updated = try await store.updateAgent(change, at: time(10), audit: nil)
        var expected = stored
        expected.status = .disabled
        expected.disabledAt = time(5)
        expected.name = "after"
        expected.rateLimit = "gold"
        expected.quota = Quota(requests: 100, period: .day)
        try expect(updated == expected, "name, tier and quota change; status, watermark and creation stay: \(String(describing: updated))")
        try expect(try await store.agent(id: stored.id) == expected, "as stored")
        let events = try await feed(after: cursor, store)
        try expect(
            events.map(\.kind) == [.limits] && events[0].subject == stored.id && events[0].agentID == stored.id && events[0].at == time(10),
            "a limits event for the agent: \(events)"
        )

        change.rateLimit = "platinum"
        change.name = "never"
        try await expectUnknownTier("an undefined tier") { _ = try await store.updateAgent(change, at: time(11), audit: nil) }
        try expect(try await store.agent(id: stored.id) == expected, "a refused update changes nothing")
        try expect(try await store.revocationBounds().latest == events[0].seq, "and appends nothing")
        change.rateLimit = nil
        change.quota = nil
        let cleared = try await store.updateAgent(change, at: time(12), audit: nil)
        try expect(cleared?.rateLimit == nil && cleared?.quota == nil, "null removes the tier and the quota")
        var missing = makeAgent()
        missing.name = "missing"
        try expect(try await store.updateAgent(missing, at: time(13), audit: nil) == nil, "unknown agent")
    }

    static func keyUpdate(_ store: any AgentAuthStore) async throws {
        let agent = makeAgent()
        try await store.insertAgent(agent)
        let stored = makeKey(agentID: agent.id, createdAt: time(1), expiresAt: time(3600))
        try await store.insertAPIKey(stored)
        let cursor = try await store.revocationBounds().latest

        var change = stored
        change.name = nil
        change.scopes = try ScopeSet(validating: ["billing:read"])
        change.rateLimit = nil
        change.quota = Quota(requests: 5, period: .hour)
        change.keyHash = String(repeating: "0", count: 64)
        change.display = "sk-agent-XXXX"
        change.status = .revoked
        change.expiresAt = nil
        change.lastUsedAt = time(50)
        change.replacedBy = "key_other"
        let updated = try await store.updateAPIKey(change, at: time(10), audit: nil)
        var expected = stored
        expected.name = nil
        expected.scopes = change.scopes
        expected.rateLimit = nil
        expected.quota = change.quota
        try expect(updated == expected, "name, scopes, tier and quota change, nothing else: \(String(describing: updated))")
        try expect(try await store.apiKeyWithAgent(hash: stored.keyHash)?.key == expected, "still found by its hash")
        let events = try await feed(after: cursor, store)
        try expect(events.map(\.kind) == [.apiKey, .limits], "cached results dropped, limits refetched: \(events.map(\.kind))")
        try expect(events.allSatisfy { $0.subject == stored.id && $0.agentID == agent.id && $0.at == time(10) }, "both name the key: \(events)")

        change.rateLimit = "platinum"
        try await expectUnknownTier("an undefined tier") { _ = try await store.updateAPIKey(change, at: time(11), audit: nil) }
        try expect(try await store.apiKey(id: stored.id) == expected, "a refused update changes nothing")
        change.rateLimit = "unlimited"
        try expect(try await store.updateAPIKey(change, at: time(12), audit: nil)?.rateLimit == "unlimited", "unlimited needs no definition")
        try expect(try await store.updateAPIKey(makeKey(agentID: agent.id), at: time(13), audit: nil) == nil, "unknown key")
    }

    static func clientUpdate(_ store: any AgentAuthStore) async throws {
        _ = try await store.putRateLimitTier(gold, audit: nil)
        let agent = makeAgent()
        try await store.insertAgent(agent)
        let stored = makeClient(agentID: agent.id)
        try await store.insertClient(stored)
        _ = try await store.setClientStatus(id: stored.clientID, status: .disabled, at: time(5), audit: nil)
        let cursor = try await store.revocationBounds().latest

        var change = stored
        change.name = "renamed"
        change.scopes = try ScopeSet(parsing: "billing:read")
        change.rateLimit = "gold"
        change.tokenTTL = 60
        change.audiences = ["elsewhere"]
        change.secretHash = nil
        change.status = .active
        change.disabledAt = nil
        let updated = try await store.updateClient(change, at: time(10), audit: nil)
        var expected = stored
        expected.name = "renamed"
        expected.scopes = change.scopes
        expected.rateLimit = "gold"
        expected.status = .disabled
        expected.disabledAt = time(5)
        try expect(updated == expected, "name, scopes and tier change; status and the rest stay: \(String(describing: updated))")
        let events = try await feed(after: cursor, store)
        try expect(
            events.map(\.kind) == [.limits] && events[0].subject == stored.clientID && events[0].agentID == agent.id && events[0].at == time(10),
            "a limits event for the client: \(events)"
        )
        change.rateLimit = "platinum"
        try await expectUnknownTier("an undefined tier") { _ = try await store.updateClient(change, at: time(11), audit: nil) }
        try expect(try await store.client(id: stored.clientID) == expected, "a refused update changes nothing")
        try expect(try await store.updateClient(makeClient(agentID: agent.id), at: time(12), audit: nil) == nil, "unknown client")
    }

    static func clientStatus(_ store: any AgentAuthStore) async throws {
        let agent = makeAgent()
        try await store.insertAgent(agent)
        let client = makeClient(agentID: agent.id)
        try await store.insertClient(client)
        let cursor = try await store.revocationBounds().latest

        let disabled = try await store.setClientStatus(id: client.clientID, status: .disabled, at: time(100), audit: nil)
        try expect(disabled?.status == .disabled && disabled?.disabledAt == time(100), "disabling sets the status and the watermark")
        try expect(try await store.clientWithAgent(id: client.clientID)?.client.status == .disabled, "the token endpoint's read sees it")
        let earlier = try await store.setClientStatus(id: client.clientID, status: .disabled, at: time(50), audit: nil)
        try expect(earlier?.disabledAt == time(100), "the watermark never moves back")
        let enabled = try await store.setClientStatus(id: client.clientID, status: .active, at: time(200), audit: nil)
        try expect(enabled?.status == .active && enabled?.disabledAt == time(100), "enabling keeps the watermark")
        let again = try await store.setClientStatus(id: client.clientID, status: .disabled, at: time(300), audit: nil)
        try expect(again?.disabledAt == time(300), "a later disable moves it forward")
        try expect(try await store.setClientStatus(id: "cli_missing", status: .disabled, at: time(1), audit: nil) == nil, "unknown client")
        var events = try await feed(after: cursor, store)
        try expect(events.map(\.kind) == [.client, .client, .client], "an event per disable, none for enabling: \(events.map(\.kind))")
        try expect(events.map(\.at) == [time(100), time(50), time(300)], "each at its time")
        try expect(events.allSatisfy { $0.subject == client.clientID && $0.agentID == agent.id }, "subject the client, with its agent")

        let deleted = try await store.deleteClient(id: client.clientID, at: time(400), audit: nil)
        try expect(deleted?.clientID == client.clientID && deleted?.disabledAt == time(300), "delete answers the client as it was")
        try expect(try await store.client(id: client.clientID) == nil, "gone")
        try expect(try await store.clientWithAgent(id: client.clientID) == nil, "gone from the joined read")
        try expect(try await store.clients(agentID: agent.id).isEmpty, "gone from the agent's list")
        try expect(try await store.deleteClient(id: client.clientID, at: time(500), audit: nil) == nil, "deleting what is not there")
        events = try await Self.feed(after: events.last!.seq, store)
        try expect(
            events.map(\.kind) == [.client] && events[0].at == time(400) && events[0].subject == client.clientID && events[0].agentID == agent.id,
            "one client event for the delete: \(events)"
        )
    }

    static func limitsSnapshot(_ store: any AgentAuthStore) async throws {
        _ = try await store.putRateLimitTier(gold, audit: nil)
        var tiered = makeAgent("tiered")
        tiered.rateLimit = "gold"
        var budgeted = makeAgent("budgeted")
        budgeted.quota = Quota(requests: 3, period: .hour)
        var unlimited = makeAgent("unlimited")
        unlimited.rateLimit = "unlimited"
        let plain = makeAgent("plain")
        for agent in [tiered, budgeted, unlimited, plain] { try await store.insertAgent(agent) }

        let standard = makeKey(agentID: plain.id)
        var none = makeKey(agentID: plain.id)
        none.rateLimit = nil
        var unlimitedWithQuota = makeKey(agentID: plain.id)
        unlimitedWithQuota.rateLimit = "unlimited"
        unlimitedWithQuota.quota = Quota(requests: 9, period: .day)
        let revoked = makeKey(agentID: plain.id)
        for key in [standard, none, unlimitedWithQuota, revoked] { try await store.insertAPIKey(key) }
        _ = try await store.revokeAPIKey(id: revoked.id, at: time(1))

        var tieredClient = makeClient(agentID: plain.id)
        tieredClient.rateLimit = "low"
        let plainClient = makeClient(agentID: plain.id)
        for client in [tieredClient, plainClient] { try await store.insertClient(client) }

        let exhausted = try await store.recordUsage(
            UsageReport(batchID: "b1", counts: [.init(agentID: budgeted.id, credentialID: standard.id, requests: 3, rateLimited: 0)]),
            at: time(10)
        )
        try expect(exhausted?.map(\.subject) == [budgeted.id], "the budgeted agent's quota is used up")

        let snapshot = try await store.limitsSnapshot(now: time(20))
        var tiers = Dictionary(uniqueKeysWithValues: RateLimitTier.builtIn.map { ($0.name, $0) })
        tiers["gold"] = gold
        try expect(snapshot.tiers == tiers, "every tier by name: \(snapshot.tiers.keys.sorted())")
        try expect(
            snapshot.agents == [tiered.id: LimitAssignment(rateLimit: "gold"), budgeted.id: LimitAssignment(quota: budgeted.quota)],
            "agents with a tier or quota only, 'unlimited' left out: \(snapshot.agents)"
        )
        try expect(
            snapshot.keys == [
                standard.id: LimitAssignment(rateLimit: "standard"), unlimitedWithQuota.id: LimitAssignment(quota: unlimitedWithQuota.quota),
            ],
            "live keys with a tier or quota only: \(snapshot.keys)"
        )
        try expect(snapshot.clients == [tieredClient.clientID: LimitAssignment(rateLimit: "low")], "clients with a tier only: \(snapshot.clients)")
        let expected = QuotaExhaustion(subject: budgeted.id, agentID: budgeted.id, periodStart: time(0), until: time(3600), quota: 3, used: 3)
        try expect(snapshot.exhausted == [expected], "the used-up quota until the hour ends: \(snapshot.exhausted)")
        try expect(try await store.limitsSnapshot(now: time(3599)).exhausted == [expected], "still in its period")
        try expect(try await store.limitsSnapshot(now: time(3600)).exhausted.isEmpty, "over once the period has ended")
    }

    static func auditedLimitChanges(_ store: any AgentAuthStore) async throws {
        let chainKey = AuditChainKey(masterKey: MasterKey.generate().key)
        func audit(_ type: String) -> AuditRecord {
            AuditRecord(events: [AuditEvent(time: time(0), type: AuditEventType(rawValue: type))], key: chainKey)
        }
        try await store.appendAudit([AuditEvent(time: time(0), type: AuditChain.initializationType)], key: chainKey)
        let agent = makeAgent()
        try await store.insertAgent(agent)
        let key = makeKey(agentID: agent.id)
        try await store.insertAPIKey(key)
        let client = makeClient(agentID: agent.id)
        try await store.insertClient(client)

        _ = try await store.putRateLimitTier(gold, audit: audit("rate_limit.set"))
        _ = try await store.updateAgent(agent, at: time(1), audit: audit("agent.updated"))
        _ = try await store.updateAgent(makeAgent(), at: time(1), audit: audit("x"))
        var undefined = agent
        undefined.rateLimit = "platinum"
        try await expectUnknownTier("undefined tier") { _ = try await store.updateAgent(undefined, at: time(1), audit: audit("x")) }
        _ = try await store.updateAPIKey(key, at: time(2), audit: audit("key.updated"))
        _ = try await store.updateAPIKey(makeKey(agentID: agent.id), at: time(2), audit: audit("x"))
        _ = try await store.updateClient(client, at: time(3), audit: audit("client.updated"))
        _ = try await store.updateClient(makeClient(agentID: agent.id), at: time(3), audit: audit("x"))
        _ = try await store.setClientStatus(id: client.clientID, status: .disabled, at: time(4), audit: audit("client.disabled"))
        _ = try await store.setClientStatus(id: "cli_missing", status: .disabled, at: time(4), audit: audit("x"))
        _ = try await store.deleteClient(id: client.clientID, at: time(5), audit: audit("client.deleted"))
        _ = try await store.deleteClient(id: client.clientID, at: time(5), audit: audit("x"))
        var assigned = agent
        assigned.rateLimit = "gold"
        _ = try await store.updateAgent(assigned, at: time(6), audit: nil)
        try await expectStoreError(.conflict, "assigned tier") { _ = try await store.deleteRateLimitTier(name: "gold", audit: audit("x")) }
        _ = try await store.updateAgent(agent, at: time(7), audit: nil)
        _ = try await store.deleteRateLimitTier(name: "gold", audit: audit("rate_limit.deleted"))
        _ = try await store.deleteRateLimitTier(name: "gold", audit: audit("x"))

        let chain = try await store.auditChain()
        try expect(
            chain.map(\.type.rawValue) == [
                AuditChain.initializationType.rawValue, "rate_limit.set", "agent.updated", "key.updated", "client.updated", "client.disabled",
                "client.deleted", "rate_limit.deleted",
            ],
            "every change once, refusals and misses none: \(chain.map(\.type.rawValue))"
        )
        try expect(AuditChain.verify(chain, key: chainKey) == nil, "the chain verifies")
    }

    static func staleUpdates(_ store: any AgentAuthStore) async throws {
        _ = try await store.putRateLimitTier(gold, audit: nil)
        let agent = makeAgent()
        try await store.insertAgent(agent)
        let key = makeKey(agentID: agent.id, scopes: ["billing:read", "conversations:read"], createdAt: time(1), expiresAt: time(3600))
        try await store.insertAPIKey(key)
        let client = makeClient(agentID: agent.id)
        try await store.insertClient(client)

        // Another change lands first: the key is narrowed.
        var narrowed = key
        narrowed.scopes = try ScopeSet(validating: ["conversations:read"])
        _ = try await store.updateAPIKey(narrowed, expecting: key, at: time(10), audit: nil)
        let cursor = try await store.revocationBounds().latest
        // A change made from the key as it was before: it would widen the scopes back.
        var stale = key
        stale.rateLimit = "gold"
        try await expectChangedMeanwhile("a key") { _ = try await store.updateAPIKey(stale, expecting: key, at: time(11), audit: nil) }
        try expect(try await store.apiKey(id: key.id) == narrowed, "the narrowing stands")
        try expect(try await feed(after: cursor, store).isEmpty, "a refused update appends no feed event")
        // Made again from what is stored, it goes through.
        var fresh = narrowed
        fresh.rateLimit = "gold"
        try expect(try await store.updateAPIKey(fresh, expecting: narrowed, at: time(12), audit: nil) == fresh, "a fresh update is stored")

        var renamed = agent
        renamed.name = "renamed"
        _ = try await store.updateAgent(renamed, expecting: agent, at: time(13), audit: nil)
        var staleAgent = agent
        staleAgent.quota = Quota(requests: 5, period: .day)
        try await expectChangedMeanwhile("an agent") { _ = try await store.updateAgent(staleAgent, expecting: agent, at: time(14), audit: nil) }
        try expect(try await store.agent(id: agent.id)?.quota == nil, "the stale agent update wrote nothing")

        var clientChange = client
        clientChange.rateLimit = "gold"
        _ = try await store.updateClient(clientChange, expecting: client, at: time(15), audit: nil)
        var staleClient = client
        staleClient.name = "stale"
        try await expectChangedMeanwhile("a client") { _ = try await store.updateClient(staleClient, expecting: client, at: time(16), audit: nil) }
        try expect(try await store.client(id: client.clientID)?.rateLimit == "gold", "the stale client update wrote nothing")
    }

    static func expectChangedMeanwhile(_ what: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as StoreError {
            try expect(error == .changedMeanwhile, "\(what): expected StoreError.changedMeanwhile, got \(error)")
            return
        }
        throw ConformanceFailure(description: "\(what): a stale update was stored")
    }
}
