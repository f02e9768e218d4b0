public import Foundation

/// Listing and rotating the token-signing keys, shared by the admin API and the CLI: a rotation
/// is stored with its `signing_key.rotated` event and its feed events in one transaction.
public struct SigningKeyAdministration: Sendable {
    public let keyRing: SigningKeyRing
    let store: any AgentAuthStore
    /// The verifiers' expiry leeway: a retired key stays published that much longer.
    let leeway: TimeInterval
    let now: @Sendable () -> Date

    public init(keyRing: SigningKeyRing, store: any AgentAuthStore, leeway: TimeInterval, now: @escaping @Sendable () -> Date = Date.init) {
        self.keyRing = keyRing
        self.store = store
        self.leeway = leeway
        self.now = now
    }

    /// The stored keys, newest first, with the phase each is in.
    public func keys() async throws -> (keys: [SigningKey], schedule: SigningKeySchedule) {
        let keys = try await keyRing.records()
        return (keys, SigningKeySchedule(keys))
    }

    /// Makes a new key, published at once, that signs `activationDelay` seconds from now. The key
    /// it replaces stays published until every token it can still have signed has expired: the
    /// longest token any client can hold, the verifiers' leeway, and the time a running server
    /// takes to notice the rotation (`SigningKeyRing.retiredKeyLifetime`).
    public func rotate(to algorithm: SigningAlgorithm, activationDelay: TimeInterval, by actor: AuditActor) async throws -> SigningKey {
        let lifetime = keyRing.retiredKeyLifetime(maxTokenLifetime: try await store.maxClientTokenTTL(), leeway: leeway)
        return try await keyRing.rotate(to: algorithm, retiredKeyLifetime: lifetime, activationDelay: activationDelay, by: actor)
    }
}
