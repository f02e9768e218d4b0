import AgentAuthCore
import AgentAuthSQLite
import AgentAuthStoreConformance
import AgentAuthTesting
import Foundation
import Synchronization
import Testing

/// Delegates to a real store and counts hash lookups, to prove which requests reach the store.
final class CountingKeyStore: APIKeyStore {
    let inner: SQLiteStore
    let lookups = Atomic<Int>(0)

    init(_ inner: SQLiteStore) { self.inner = inner }

    func insertAPIKey(_ key: APIKey, audit: AuditRecord?) async throws { try await inner.insertAPIKey(key, audit: audit) }
    func apiKey(id: String) async throws -> APIKey? { try await inner.apiKey(id: id) }
    func apiKeys(agentID: String) async throws -> [APIKey] { try await inner.apiKeys(agentID: agentID) }
    func apiKeyWithAgent(hash: String) async throws -> (key: APIKey, agent: Agent)? {
        lookups.add(1, ordering: .relaxed)
        return try await inner.apiKeyWithAgent(hash: hash)
    }
    func revokeAPIKey(id: String, at: Date, audit: AuditRecord?) async throws -> APIKey? {
        try await inner.revokeAPIKey(id: id, at: at, audit: audit)
    }
    func rollAPIKey(id: String, replacement: APIKey, graceUntil: Date, at: Date, audit: AuditRecord?) async throws -> APIKey {
        try await inner.rollAPIKey(id: id, replacement: replacement, graceUntil: graceUntil, at: at, audit: audit)
    }
    func updateAPIKey(_ key: APIKey, expecting previous: APIKey?, at: Date, audit: AuditRecord?) async throws -> APIKey? {
        try await inner.updateAPIKey(key, expecting: previous, at: at, audit: audit)
    }
    func recordAPIKeyUsage(_ usage: [String: Date]) async throws { try await inner.recordAPIKeyUsage(usage) }
}

func withTemporaryStore<T>(_ body: (SQLiteStore) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agentauth-core-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(try SQLiteStore(path: directory.appendingPathComponent("test.sqlite").path))
}

@Suite("APIKeyVerifier")
struct APIKeyVerifierTests {
    @Test("a valid key yields the agent, key id and scopes, and records usage without writing")
    func validKey() async throws {
        try await withTemporaryStore { store in
            let admin = AgentAdministration(store: store)
            let keys = APIKeyAdministration(store: store)
            let agent = try await admin.createAgent(name: "worker", by: .test)
            let issued = try await keys.createAPIKey(agentID: agent.id, APIKeyRequest(scopes: ["a", "b"]), by: .test)
            let usage = KeyUsageRecorder(store: store)
            let identity = try await APIKeyVerifier(store: store, usage: usage).verify(issued.plaintext)
            #expect(identity == AgentIdentity(agentID: agent.id, credentialID: issued.record.id, kind: .apiKey, scopes: try ScopeSet(parsing: "a b")))
            #expect(usage.pendingCount == 1)
            #expect(try await store.apiKey(id: issued.record.id)?.lastUsedAt == nil)
            try await usage.flush()
            #expect(try await store.apiKey(id: issued.record.id)?.lastUsedAt != nil)
        }
    }

    @Test("malformed keys are refused without a store lookup; well-formed unknown keys are looked up")
    func shapeBeforeLookup() async throws {
        try await withTemporaryStore { store in
            let counting = CountingKeyStore(store)
            let verifier = APIKeyVerifier(store: counting)
            let good = SecretFormat.apiKey.generate()
            for bad in ["", "sk-agent-x", String(good.dropLast()) + (good.last == "A" ? "B" : "A"), good + " ", "Bearer " + good] {
                await #expect(throws: CredentialRejection.malformed) { try await verifier.verify(bad) }
            }
            #expect(counting.lookups.load(ordering: .relaxed) == 0)
            await #expect(throws: CredentialRejection.unknown) { try await verifier.verify(good) }
            #expect(counting.lookups.load(ordering: .relaxed) == 1)
        }
    }

    @Test("revoked, expired and disabled-agent keys are refused with their reason")
    func deadKeys() async throws {
        try await withTemporaryStore { store in
            let clock = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
            let now: @Sendable () -> Date = { clock.withLock { $0 } }
            let admin = AgentAdministration(store: store, now: now)
            let keys = APIKeyAdministration(store: store, now: now)
            let verifier = APIKeyVerifier(store: store, now: now)
            let agent = try await admin.createAgent(name: "worker", by: .test)

            let revoked = try await keys.createAPIKey(agentID: agent.id, APIKeyRequest(scopes: ["a"]), by: .test)
            _ = try await keys.revokeAPIKey(id: revoked.record.id, by: .test)
            await #expect(throws: CredentialRejection.revoked) { try await verifier.verify(revoked.plaintext) }

            let expiring = try await keys.createAPIKey(agentID: agent.id, APIKeyRequest(scopes: ["a"], expiresIn: 60), by: .test)
            _ = try await verifier.verify(expiring.plaintext)
            clock.withLock { $0 = $0.addingTimeInterval(59) }
            _ = try await verifier.verify(expiring.plaintext)
            clock.withLock { $0 = $0.addingTimeInterval(1) }
            await #expect(throws: CredentialRejection.expired) { try await verifier.verify(expiring.plaintext) }

            let live = try await keys.createAPIKey(agentID: agent.id, APIKeyRequest(scopes: ["a"]), by: .test)
            _ = try await admin.setStatus(agentID: agent.id, .disabled, by: .test)
            await #expect(throws: CredentialRejection.agentDisabled) { try await verifier.verify(live.plaintext) }
            _ = try await admin.setStatus(agentID: agent.id, .active, by: .test)
            #expect(try await verifier.verify(live.plaintext).agentID == agent.id)
        }
    }

    @Test("roll: the old key works until the grace ends, then stops; the new one keeps the lifetime length")
    func roll() async throws {
        try await withTemporaryStore { store in
            let clock = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
            let now: @Sendable () -> Date = { clock.withLock { $0 } }
            let admin = AgentAdministration(store: store, now: now)
            let keys = APIKeyAdministration(store: store, now: now)
            let verifier = APIKeyVerifier(store: store, now: now)
            let agent = try await admin.createAgent(name: "worker", by: .test)
            let old = try await keys.createAPIKey(
                agentID: agent.id,
                APIKeyRequest(scopes: ["a"], name: "ci", expiresIn: 3600, rateLimit: "low"),
                by: .test
            )
            clock.withLock { $0 = $0.addingTimeInterval(100) }
            let (replacement, previous) = try await keys.rollAPIKey(id: old.record.id, graceSeconds: 30, by: .test)
            #expect(previous.replacedBy == replacement.record.id)
            #expect(replacement.record.name == "ci" && replacement.record.rateLimit == "low" && replacement.record.scopes == old.record.scopes)
            #expect(replacement.record.expiresAt == now().addingTimeInterval(3600))
            clock.withLock { $0 = $0.addingTimeInterval(29) }
            _ = try await verifier.verify(old.plaintext)
            clock.withLock { $0 = $0.addingTimeInterval(1) }
            await #expect(throws: CredentialRejection.expired) { try await verifier.verify(old.plaintext) }
            _ = try await verifier.verify(replacement.plaintext)
            await #expect(throws: AdministrationError.self) { try await keys.rollAPIKey(id: old.record.id, graceSeconds: 0, by: .test) }
        }
    }

    @Test("bootstrap creates one admin key, once")
    func bootstrap() async throws {
        try await withTemporaryStore { store in
            let admin = AgentAdministration(store: store)
            let (agent, key) = try #require(try await admin.initialize(masterKey: MasterKey.generate().key))
            #expect(key.record.scopes == ScopeSet([Scope.admin]))
            #expect(try await APIKeyVerifier(store: store).verify(key.plaintext).agentID == agent.id)
            #expect(try await admin.initialize(masterKey: MasterKey.generate().key) == nil)
            #expect(try await admin.agents().count == 1)
        }
    }
}

@Suite("Signing key ring")
struct SigningKeyRingTests {
    @Test("a rotation made elsewhere (CLI, another node) is adopted within the refresh interval")
    func adoptsRotation() async throws {
        try await withTemporaryStore { store in
            let clock = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
            let now: @Sendable () -> Date = { clock.withLock { $0 } }
            let masterKey = MasterKey.generate().key
            _ = try await AgentAdministration(store: store, now: now).initialize(masterKey: masterKey)
            let server = SigningKeyRing(store: store, masterKey: masterKey, refreshInterval: 30, now: now)
            let cli = SigningKeyRing(store: store, masterKey: masterKey, refreshInterval: 30, now: now)
            let before = try await server.activeKey().kid
            // No activation delay: this is about noticing a rotation (the delay has its own tests).
            let rotated = try await cli.rotate(
                to: .es256,
                retiredKeyLifetime: cli.retiredKeyLifetime(maxTokenLifetime: 600, leeway: 30),
                activationDelay: 0,
                by: .test
            )
            let retired = try await cli.records().first { $0.kid == before }
            #expect(retired?.status == .retired)
            #expect(retired?.publishedUntil == now().addingTimeInterval(660))
            #expect(try await server.activeKey().kid == before, "within the interval the cached key is used")
            clock.withLock { $0 = $0.addingTimeInterval(30) }
            #expect(try await server.activeKey().kid == rotated.kid, "after the interval the rotation is adopted")
            #expect(try await server.verificationKey(kid: before) != nil, "the retired key still verifies")
            clock.withLock { $0 = $0.addingTimeInterval(631) }
            #expect(try await server.verificationKey(kid: before) == nil, "and stops once it is no longer published")
            #expect(try await server.publishedJWKs().map { $0["kid"] } == [rotated.kid])
        }
    }

    @Test("a wrong master key cannot open the signing keys")
    func wrongMasterKey() async throws {
        try await withTemporaryStore { store in
            _ = try await AgentAdministration(store: store).initialize(masterKey: MasterKey.generate().key)
            let ring = SigningKeyRing(store: store, masterKey: MasterKey.generate().key)
            await #expect(throws: MasterKeyError.cannotDecrypt) { try await ring.reload() }
        }
    }
}
