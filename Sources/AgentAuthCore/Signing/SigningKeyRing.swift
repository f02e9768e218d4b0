public import Foundation
import Synchronization

/// The server's signing keys, opened with the master key: the key the schedule names signs
/// (`SigningKeySchedule`: a rotated-in key signs only after the activation delay), every
/// published key verifies and appears in the JWKS. Reloaded from the store after a rotation
/// made here, when the server's revocation sync sees a rotation's feed events (a rotation by
/// the CLI or another node), at least every `refreshInterval`, and on an unknown `kid` at most
/// once per `refreshInterval`.
public final class SigningKeyRing: VerificationKeySource {
    struct State {
        var schedule = SigningKeySchedule([])
        var published: [String: SigningKeyMaterial] = [:]
        /// The published keys as verifiers get them: a retired key until its `publishedUntil`.
        var keys: [String: VerificationKey] = [:]
        var lastReload: Date = .distantPast
    }

    let store: any SigningKeyStore
    let masterKey: MasterKey
    let now: @Sendable () -> Date
    let refreshInterval: TimeInterval
    private let state = Mutex(State())
    private let revision = Atomic<UInt64>(0)

    /// How long a rotated-in key is published before it signs, unless the caller says otherwise:
    /// the feed brings the rotation to verifiers within about a second, and they fetch the key.
    public static let defaultActivationDelay: TimeInterval = 5

    public var trustRevision: UInt64 { revision.load(ordering: .acquiring) }

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
        var keys: [String: VerificationKey] = [:]
        for record in records {
            let material = try await SigningKeyMaterial.open(record, masterKey: masterKey)
            published[record.kid] = material
            keys[record.kid] = material.verificationKey.trusted(until: record.status == .retired ? record.publishedUntil : nil)
        }
        let ended = state.withLock { state in
            // A key gone, or one that now has an end (a rotation retired it); new keys change nothing.
            let ended = state.keys.values.contains { old in keys[old.kid].map { $0.validUntil != old.validUntil } ?? true }
            state.schedule = SigningKeySchedule(records)
            state.published = published
            state.keys = keys
            state.lastReload = now
            return ended
        }
        // Verified-token caches must not keep what such a key verified past its end.
        if ended { revision.wrappingAdd(1, ordering: .releasing) }
    }

    /// The key that signs now: the active key, or during an activation delay the key it replaces.
    public func activeKey() async throws -> SigningKeyMaterial {
        let now = self.now()
        let (signer, stale) = state.withLock { state in
            (state.schedule.signer(at: now).flatMap { state.published[$0.kid] }, now.timeIntervalSince(state.lastReload) >= refreshInterval)
        }
        if let signer, !stale { return signer }
        try await reload()
        guard let signer = state.withLock({ state in state.schedule.signer(at: now).flatMap { state.published[$0.kid] } }) else {
            throw SigningKeyError.noActiveKey
        }
        return signer
    }

    public func verificationKey(kid: String) async throws -> VerificationKey? {
        let now = self.now()
        let (known, mayRefresh) = state.withLock { state in (state.keys[kid], now.timeIntervalSince(state.lastReload) >= refreshInterval) }
        if let known {
            // A retired key stops verifying the moment it leaves the JWKS, without waiting for a reload.
            if let end = known.validUntil, end <= now { return nil }
            return known
        }
        guard mayRefresh else { return nil }
        try await reload()
        return state.withLock { $0.keys[kid] }
    }

    /// The public JWKS document's keys (RFC 7517 §5): public members only. A rotated-in key is
    /// listed at once, before it signs.
    public func publishedJWKs() async throws -> [[String: String]] {
        let now = self.now()
        let stale = state.withLock { state in state.published.isEmpty || now.timeIntervalSince(state.lastReload) >= refreshInterval }
        if stale { try await reload() }
        return state.withLock { state in
            state.schedule.keys.filter { $0.isPublished(at: now) }.compactMap { state.published[$0.kid]?.publicJWK }
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

    /// How long after its retirement (when it stops signing) a key must stay published, for
    /// tokens of at most `maxTokenLifetime` seconds: their lifetime, the verifiers' leeway, and
    /// the refresh interval during which another node may still sign with the key it has not yet
    /// seen retired.
    public func retiredKeyLifetime(maxTokenLifetime: Int, leeway: TimeInterval) -> TimeInterval {
        TimeInterval(max(maxTokenLifetime, 0)) + leeway + refreshInterval
    }

    /// Makes a new key, published at once, that signs `activationDelay` seconds from now; until
    /// then the key it replaces keeps signing, and from then it is retired and stays published
    /// for `retiredKeyLifetime` seconds (the longest a token it signed can still be valid). Stored
    /// with the `signing_key.rotated` event of `actor`.
    @discardableResult
    public func rotate(
        to algorithm: SigningAlgorithm,
        retiredKeyLifetime: TimeInterval,
        activationDelay: TimeInterval,
        by actor: AuditActor
    ) async throws -> SigningKey {
        let (material, privateKey) = try await SigningKeyMaterial.generate(algorithm)
        let now = self.now()
        let record = try material.record(privateKey: privateKey, masterKey: masterKey, createdAt: now)
        let handOver = now.addingTimeInterval(max(activationDelay, 0))
        let audit = actor.record(
            .signingKeyRotated,
            agentID: nil,
            credentialID: record.kid,
            details: ["algorithm": algorithm.rawValue, "activates_at": String(handOver.timeIntervalSince1970)],
            at: now
        )
        try await store.rotateSigningKey(
            to: record,
            retiredAt: handOver,
            publishedUntil: handOver.addingTimeInterval(retiredKeyLifetime),
            audit: audit
        )
        try await reload()
        return record
    }
}

public enum SigningKeyError: Error, Hashable, Sendable, CustomStringConvertible {
    case noActiveKey

    public var description: String { "no active signing key; run `agentauth init`" }
}
