public import AgentAuthCore
import Crypto
public import Foundation
import Synchronization

/// Positive introspection results for API keys, kept briefly (default 5 s, never past the key's
/// own expiry) and evicted by the revocation feed. Keyed by SHA-256 of the key: the plaintext is
/// never held. Bounded: when full, the oldest half is dropped.
///
/// A hit is on every request's path when the cache is on: the key's bytes are hashed in place
/// and the digest itself is the dictionary key (no `Data` copy, no base64 string).
public final class APIKeyCache: Sendable {
    struct Entry {
        let identity: AgentIdentity
        let validUntil: ContinuousClock.Instant
    }

    public let ttl: Duration
    let capacity: Int
    private let entries = Mutex<[SHA256Digest: Entry]>([:])
    /// Bumped by every eviction: a result fetched before an eviction is not stored after it.
    private let evictions = Atomic<UInt64>(0)

    /// The eviction generation to pass to `store` for a lookup that starts now.
    public var generation: UInt64 { evictions.load(ordering: .acquiring) }

    public init(ttl: Duration = .seconds(5), capacity: Int = 10_000) {
        self.ttl = ttl
        self.capacity = capacity
    }

    static func digest(_ key: String) -> SHA256Digest {
        var key = key
        return key.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
    }

    public func lookUp(_ key: String) -> AgentIdentity? {
        let digest = Self.digest(key)
        let now = ContinuousClock.now
        return entries.withLock { entries in
            guard let entry = entries[digest] else { return nil }
            guard entry.validUntil > now else {
                entries[digest] = nil
                return nil
            }
            return entry.identity
        }
    }

    /// Caches `identity` for `ttl`, or until `expiresIn` seconds when the key expires sooner —
    /// unless an eviction happened since `generation` was read (the result may be stale).
    public func store(_ key: String, identity: AgentIdentity, expiresIn: TimeInterval?, generation: UInt64) {
        var lifetime = ttl
        if let expiresIn { lifetime = min(lifetime, .milliseconds(Int(max(expiresIn, 0) * 1000))) }
        guard lifetime > .zero else { return }
        let entry = Entry(identity: identity, validUntil: ContinuousClock.now + lifetime)
        let digest = Self.digest(key)
        entries.withLock { entries in
            guard evictions.load(ordering: .acquiring) == generation else { return }
            if entries.count >= capacity {
                let sorted = entries.sorted { $0.value.validUntil < $1.value.validUntil }
                for (key, _) in sorted.prefix(capacity / 2) { entries[key] = nil }
            }
            entries[digest] = entry
        }
    }

    public func evict(keyID: String) {
        entries.withLock { entries in
            evictions.add(1, ordering: .releasing)
            entries = entries.filter { $0.value.identity.credentialID != keyID }
        }
    }

    public func evict(agentID: String) {
        entries.withLock { entries in
            evictions.add(1, ordering: .releasing)
            entries = entries.filter { $0.value.identity.agentID != agentID }
        }
    }

    public func removeAll() {
        entries.withLock { entries in
            evictions.add(1, ordering: .releasing)
            entries.removeAll()
        }
    }

    public var count: Int { entries.withLock { $0.count } }
}
