public import Foundation
import Synchronization

/// Claims of tokens that already passed full verification (form, header, signature, claims,
/// issuer, audience, times), keyed by the whole token, so a token presented again skips the
/// base64, JSON and signature work. Only a `TokenVerifier` with the same policy may use it.
///
/// What is cached never replaces revocation: the verifier checks the deny-list (`jti`,
/// ancestors, disable watermarks of every agent of the chain) on every request, hit or miss.
/// An entry dies at the token's `exp` (no leeway: a token past it is verified in full again,
/// and refused), or sooner when the key that signed it stops being trusted (a leaked key,
/// rotated out: its tokens may live longer than the key's publication); an entry made under an
/// earlier trust revision of the key source (a key dropped, a retirement learned) is verified
/// in full again. The cache is bounded: when full, expired entries go first, then the half that
/// expires soonest.
public final class VerifiedTokenCache: Sendable {
    struct Entry {
        let claims: AccessTokenClaims
        let expiresAt: Date
        let revision: UInt64
    }

    public let capacity: Int
    private let entries: Mutex<[String: Entry]>

    public init(capacity: Int = 10_000) {
        precondition(capacity > 0, "a cache holds at least one token")
        self.capacity = capacity
        self.entries = Mutex([:])
    }

    /// The claims of `token` when it was verified before, under the key source's `revision`,
    /// and has not reached its end at `now`.
    public func claims(for token: String, now: Date, revision: UInt64 = 0) -> AccessTokenClaims? {
        guard Self.isCompactJWS(token) else { return nil }
        return entries.withLock { entries in
            guard let entry = entries[token] else { return nil }
            guard entry.expiresAt > now, entry.revision == revision else {
                entries[token] = nil
                return nil
            }
            return entry.claims
        }
    }

    /// Keeps `claims` for `token` until the token's `exp`, or `keyValidUntil` if that comes
    /// first, as long as the key source stays at `revision`.
    public func store(_ token: String, claims: AccessTokenClaims, now: Date, keyValidUntil: Date? = nil, revision: UInt64 = 0) {
        let expiresAt = keyValidUntil.map { min($0, claims.expiresAt) } ?? claims.expiresAt
        guard expiresAt > now, Self.isCompactJWS(token) else { return }
        entries.withLock { entries in
            if entries[token] == nil, entries.count >= capacity {
                Self.makeRoom(in: &entries, capacity: capacity, now: now)
            }
            entries[token] = Entry(claims: claims, expiresAt: expiresAt, revision: revision)
        }
    }

    /// Drops expired entries, then, if that freed less than half, the half expiring soonest:
    /// an insert into a full cache costs O(n log n) at most once every `capacity / 2` inserts.
    static func makeRoom(in entries: inout [String: Entry], capacity: Int, now: Date) {
        let expired = entries.filter { $0.value.expiresAt <= now }.map(\.key)
        for token in expired { entries[token] = nil }
        let target = capacity / 2
        guard entries.count > target else { return }
        let soonest = entries.sorted { $0.value.expiresAt < $1.value.expiresAt }.prefix(entries.count - target).map(\.key)
        for token in soonest { entries[token] = nil }
    }

    /// Swift compares (and hashes) Strings by Unicode canonical equivalence: "K" == "\u{212A}".
    /// Only strings of the compact JWS alphabet, where that is byte equality, are keys, so a
    /// token's other spellings are never hits: one token, one spelling.
    static func isCompactJWS(_ token: String) -> Bool {
        token.utf8.allSatisfy { $0 == UInt8(ascii: ".") || Base64URL.isAlphabetByte($0) }
    }

    public var count: Int { entries.withLock { $0.count } }
}
