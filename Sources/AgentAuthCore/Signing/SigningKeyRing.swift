public import Foundation
import Synchronization

/// The server's signing keys, opened with the master key: the active key signs, every
/// published key verifies and appears in the JWKS. Reloaded from the store after a rotation
/// made here, at least every `refreshInterval` (a rotation by the CLI or another node is
/// adopted within that time), and on an unknown `kid` at most once per `refreshInterval`.
public final class SigningKeyRing: VerificationKeySource {
    struct State {
        var active: SigningKeyMaterial?
        var published: [String: SigningKeyMaterial] = [:]
        var records: [SigningKey] = []
        var lastReload: Date = .distantPast
    }

    let store: any SigningKeyStore
    let masterKey: MasterKey
    let now: @Sendable () -> Date
    let refreshInterval: TimeInterval
    private let state = Mutex(State())

    public init(store: any SigningKeyStore, masterKey: MasterKey, refreshInterval: TimeInterval = 30, now: @escaping @Sendable () -> Date = Date.init)
    {
        self.store = store
        self.masterKey = masterKey
        self.refreshInterval = refreshInterval
        self.now = now
    }

    /// Reads every published key from the store and opens it.
    public func reload() async throws {
        let now = self.now()
        let records = try await store.signingKeys().filter { $0.isPublished(at: now) }
        var published: [String: SigningKeyMaterial] = [:]
        var active: SigningKeyMaterial?
        for record in records {
            let material = try await SigningKeyMaterial.open(record, masterKey: masterKey)
            published[record.kid] = material
            if record.status == .active { active = material }
        }
        state.withLock { state in
            state.active = active
            state.published = published
            state.records = records
            state.lastReload = now
        }
    }

    public func activeKey() async throws -> SigningKeyMaterial {
        let (active, stale) = state.withLock { state in (state.active, now().timeIntervalSince(state.lastReload) >= refreshInterval) }
        if let active, !stale { return active }
        try await reload()
        guard let active = state.withLock({ $0.active }) else { throw SigningKeyError.noActiveKey }
        return active
    }

    public func verificationKey(kid: String) async throws -> VerificationKey? {
        let (known, mayRefresh) = state.withLock { state in
            (state.published[kid], now().timeIntervalSince(state.lastReload) >= refreshInterval)
        }
        if let known { return isStillPublished(kid) ? known.verificationKey : nil }
        guard mayRefresh else { return nil }
        try await reload()
        return state.withLock { $0.published[kid]?.verificationKey }
    }

    /// A retired key stops verifying the moment it leaves the JWKS, without waiting for a reload.
    private func isStillPublished(_ kid: String) -> Bool {
        let now = self.now()
        return state.withLock { state in state.records.first { $0.kid == kid }?.isPublished(at: now) ?? false }
    }

    /// The public JWKS document's keys (RFC 7517 §5): public members only.
    public func publishedJWKs() async throws -> [[String: String]] {
        let now = self.now()
        let stale = state.withLock { state in state.active == nil || now.timeIntervalSince(state.lastReload) >= refreshInterval }
        if stale { try await reload() }
        return state.withLock { state in
            state.records.filter { $0.isPublished(at: now) }.compactMap { state.published[$0.kid]?.publicJWK }
        }
    }

    /// The stored keys (without private parts opened), newest first.
    public func records() async throws -> [SigningKey] {
        try await store.signingKeys().sorted { $0.createdAt > $1.createdAt }
    }

    /// Creates the first key when the store has none. Returns it, or `nil` if a key existed.
    public func createInitialKey(_ algorithm: SigningAlgorithm) async throws -> SigningKey? {
        guard try await store.signingKeys().isEmpty else { return nil }
        let (material, privateKey) = try await SigningKeyMaterial.generate(algorithm)
        let record = try material.record(privateKey: privateKey, masterKey: masterKey, createdAt: now())
        try await store.insertSigningKey(record)
        try await reload()
        return record
    }

    /// How long after its retirement a key must stay published, for tokens of at most
    /// `maxTokenLifetime` seconds: their lifetime, the verifiers' leeway, and the refresh interval
    /// during which another node may still sign with the key it has not yet seen retired.
    public func retiredKeyLifetime(maxTokenLifetime: Int, leeway: TimeInterval) -> TimeInterval {
        TimeInterval(max(maxTokenLifetime, 0)) + leeway + refreshInterval
    }

    /// Makes a new active key; the old one is retired but stays published for `retiredKeyLifetime`
    /// seconds (the longest a token it signed can still be valid). Stored with the
    /// `signing_key.rotated` event of `actor`.
    @discardableResult
    public func rotate(to algorithm: SigningAlgorithm, retiredKeyLifetime: TimeInterval, by actor: AuditActor) async throws -> SigningKey {
        let (material, privateKey) = try await SigningKeyMaterial.generate(algorithm)
        let now = self.now()
        let record = try material.record(privateKey: privateKey, masterKey: masterKey, createdAt: now)
        let audit = actor.record("signing_key.rotated", agentID: nil, credentialID: record.kid, details: ["algorithm": algorithm.rawValue], at: now)
        try await store.rotateSigningKey(to: record, retiredAt: now, publishedUntil: now.addingTimeInterval(retiredKeyLifetime), audit: audit)
        try await reload()
        return record
    }
}

public enum SigningKeyError: Error, Hashable, Sendable, CustomStringConvertible {
    case noActiveKey

    public var description: String { "no active signing key; run `agentauth init`" }
}
