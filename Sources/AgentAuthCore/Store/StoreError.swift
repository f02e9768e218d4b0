/// Failures every store reports the same way, whatever its engine.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// The store can't be reached or failed; the request may succeed later (HTTP 503).
        case unavailable
        /// The change contradicts what is stored (a duplicate, a state that forbids it).
        case conflict
        /// Something the change refers to does not exist.
        case notFound
    }

    public var kind: Kind
    /// Safe to show a caller: never holds a secret or a raw engine message.
    public var reason: String

    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public static func unavailable(_ reason: String) -> StoreError { .init(.unavailable, reason) }
    public static func conflict(_ reason: String) -> StoreError { .init(.conflict, reason) }
    public static func notFound(_ reason: String) -> StoreError { .init(.notFound, reason) }

    /// A change assigns a rate-limit tier that is not defined: what every store throws, so that
    /// callers can tell it from a missing record (it is the request that is wrong).
    public static let unknownRateLimitTier = StoreError.notFound("no such rate-limit tier")

    /// An update made from a record that has changed since it was read (another change came
    /// first): the caller reads it again and reapplies its change.
    public static let changedMeanwhile = StoreError.conflict("the record changed meanwhile; read it again")

    /// The database carries migrations this release does not know: a newer release upgraded it.
    /// Migrations only go forward, so an older binary must not write to that schema; every store
    /// refuses to open it rather than guess.
    public static func newerSchema(_ unknownMigrations: [String]) -> StoreError {
        .unavailable(
            "the database was upgraded by a newer release of AgentAuth (migrations this release does not know: "
                + unknownMigrations.joined(separator: ", ")
                + "); run that release or a later one, or restore a backup taken before the upgrade"
        )
    }

    public var description: String { reason }
}
