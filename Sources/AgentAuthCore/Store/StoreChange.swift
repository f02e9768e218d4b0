/// What a store can tell other nodes changed, so they refresh at once instead of at their next poll.
public enum StoreChange: String, Sendable, Hashable {
    /// A revocation feed event was appended (of any kind but a signing key's).
    case revocation
    /// A signing key was rotated.
    case signingKey = "signing_key"
    /// A client or agent changed without a feed event (re-enabled, a secret rotated): what nodes
    /// kept of clients and agents must be read again (`StoreChangeCounter`).
    case credentials
    /// The notification channel was (re)connected: anything may have been missed, catch up.
    case resync
}

/// Stores that push change notifications between nodes (PostgreSQL's LISTEN/NOTIFY). Nodes
/// still poll as well: a notification is a hint to look now, never the only way to learn.
public protocol StoreChangeNotifier: Sendable {
    /// A stream of changes made by any node, for as long as the caller iterates it.
    func changes() -> AsyncStream<StoreChange>
}
