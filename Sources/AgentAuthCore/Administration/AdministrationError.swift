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

extension AdministrationError {
    /// Runs a store change, turning the store's `notFound` and `conflict` into the same kinds here.
    static func mappingStoreErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as StoreError where error.kind == .notFound {
            throw AdministrationError.notFound(error.reason)
        } catch let error as StoreError where error.kind == .conflict {
            throw AdministrationError.conflict(error.reason)
        }
    }
}
