/// Why an admin change was refused. `reason` is safe to show the caller.
public struct AdministrationError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        case invalidRequest
        case notFound
        case conflict
    }

    public var kind: Kind
    public var reason: String

    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public static func invalidRequest(_ reason: String) -> Self { .init(.invalidRequest, reason) }
    public static func notFound(_ reason: String) -> Self { .init(.notFound, reason) }
    public static func conflict(_ reason: String) -> Self { .init(.conflict, reason) }

    public var description: String { reason }
}
