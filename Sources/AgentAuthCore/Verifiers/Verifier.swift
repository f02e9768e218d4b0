public import Foundation

/// A process that follows the revocation feed and says who it is (a resource server built with
/// the middleware, or any other follower that sends the verifier parameters): the registry the
/// auth server keeps of them, shared by all nodes through the store, is what a revocation waits
/// on before it answers (`RevocationConfirmation`).
public struct Verifier: Hashable, Sendable {
    /// Where a verifier stands, by its last contact.
    public enum Status: String, Hashable, Sendable, Codable {
        /// Polled within its bound: it trusts what it cached, so revocations wait for it.
        case live
        /// Silent past its bound: it no longer trusts cached API-key results itself, so
        /// revocations don't wait for it.
        case stale
        /// Silent for `goneAfter`: most likely stopped for good; forgotten after `forgottenAfter`.
        case gone
    }

    /// The instance id the follower chose at its start.
    public var id: String
    /// Its display name (by default its host name).
    public var name: String
    /// The agent whose credential it follows the feed with.
    public var agentID: String
    /// The `seq` up to which it has applied the feed: its last poll's `after`.
    public var cursor: Int64
    /// When its last poll arrived.
    public var lastSeen: Date
    /// When it first polled.
    public var firstSeen: Date
    /// How long it keeps trusting what it cached without a feed answer, in milliseconds, counted
    /// from the start of its last answered poll (never later than that poll's arrival here).
    public var boundMilliseconds: Int

    /// Silence after which a verifier counts as gone.
    public static let goneAfter: TimeInterval = 3600
    /// Silence after which a verifier is removed from the registry.
    public static let forgottenAfter: TimeInterval = 7 * 24 * 3600
    /// The bound a follower that names none is taken to have (the middleware's default).
    public static let defaultBoundMilliseconds = 15_000
    /// The bounds a follower may declare: at most `goneAfter`, so that a verifier counted as gone
    /// (no longer against its agent's cap) is never still live, waited for by every revocation.
    public static let boundRange = 100...3_600_000
    /// Verifiers that are not gone that one agent may have registered: a credential with scope
    /// `introspect` cannot grow the registry without bound by inventing instance ids.
    public static let limitPerAgent = 256

    /// What recording a poll did (`VerifierStore.recordVerifierPoll`).
    public enum Registration: Hashable, Sendable {
        /// Registered or refreshed.
        case recorded
        /// A new instance id past its agent's cap: nothing written.
        case limitReached
        /// The instance id is registered to another agent: nothing written. Otherwise any
        /// `introspect` credential could acknowledge in another agent's verifier's name, or shorten
        /// its bound, and a revocation would answer confirmed while that verifier still trusts
        /// its cache.
        case idTaken
    }

    public init(id: String, name: String, agentID: String, cursor: Int64, lastSeen: Date, firstSeen: Date, boundMilliseconds: Int) {
        self.id = id
        self.name = name
        self.agentID = agentID
        self.cursor = cursor
        self.lastSeen = lastSeen
        self.firstSeen = firstSeen
        self.boundMilliseconds = boundMilliseconds
    }

    /// Its status at `now`.
    public func status(at now: Date) -> Status {
        let silence = now.timeIntervalSince(lastSeen)
        if silence <= Double(boundMilliseconds) / 1000 { return .live }
        return silence <= Self.goneAfter ? .stale : .gone
    }

    /// Whether `id` is a well-formed instance id: 1–64 of `A-Z a-z 0-9 . _ -`.
    public static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64 && id.utf8.allSatisfy(\.isNameCharacter)
    }

    /// Whether `name` is a well-formed display name: 1–128 printable ASCII characters.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 128 && name.utf8.allSatisfy { (0x20...0x7E).contains($0) }
    }
}
