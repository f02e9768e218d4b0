public import Foundation

/// Which signing key signs when. A rotation publishes the new key at once but hands signing
/// over only at the replaced key's `retiredAt`, an activation delay later, so that every
/// verifier has the new key before any token carries it. Keys hand over in the order they were
/// rotated in: at any time the key that signs is, of those not yet retired, the one retiring
/// first (the active key last). Every node reads the same records, so every node follows the
/// same schedule.
public struct SigningKeySchedule: Sendable {
    public enum Phase: String, Hashable, Sendable {
        /// Published, not signing yet: it signs once the key before it retires.
        case pending
        /// Signs new tokens.
        case active
        /// Signs nothing; verifies until `publishedUntil`.
        case retired
    }

    public let keys: [SigningKey]

    public init(_ keys: [SigningKey]) {
        self.keys = keys
    }

    /// When a key stops signing: a retired key at its `retiredAt`, the active key never.
    static func signingEnd(_ key: SigningKey) -> Date {
        key.status == .active ? .distantFuture : key.retiredAt ?? .distantPast
    }

    /// The key that signs at `date`.
    public func signer(at date: Date) -> SigningKey? {
        keys.filter { Self.signingEnd($0) > date }.min { Self.signingEnd($0) < Self.signingEnd($1) }
    }

    public func phase(of key: SigningKey, at date: Date) -> Phase {
        if Self.signingEnd(key) <= date { return .retired }
        return signer(at: date)?.kid == key.kid ? .active : .pending
    }

    /// When `key` starts (or started) signing: when the key it replaces retires; `nil` for the first key.
    public func activation(of key: SigningKey) -> Date? {
        let end = Self.signingEnd(key)
        return keys.compactMap { $0.status == .retired ? $0.retiredAt : nil }.filter { $0 < end }.max()
    }
}
