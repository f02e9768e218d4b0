/// Why an admin change was refused. `reason` is safe to show the caller. The kinds are an open
/// set, as jwt-kit's error kinds are, so a new kind of refusal doesn't break a caller that
/// switches over them (it answers the unknown ones as a bad request).
public struct AdministrationError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        let name: String

        /// The change asks for something invalid (HTTP 400).
        public static let invalidRequest = Kind(name: "invalid_request")
        /// What the change refers to does not exist (HTTP 404).
        public static let notFound = Kind(name: "not_found")
        /// The change contradicts what is stored (HTTP 409).
        public static let conflict = Kind(name: "conflict")

        public var description: String { name }
    }

    public let kind: Kind
    public let reason: String

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
    /// Runs a store change, turning the store's `notFound` and `conflict` into the same kinds here;
    /// an undefined tier is the request's fault (`invalidRequest`), not a missing record.
    static func mappingStoreErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as StoreError where error == .unknownRateLimitTier {
            throw AdministrationError.invalidRequest("rate_limit: \(error.reason)")
        } catch let error as StoreError where error.kind == .notFound {
            throw AdministrationError.notFound(error.reason)
        } catch let error as StoreError where error.kind == .conflict {
            throw AdministrationError.conflict(error.reason)
        }
    }
}

extension AdministrationError {
    /// Runs a read-then-update change again (up to three times in all) when the store says the
    /// record changed between the read and the update (`StoreError.changedMeanwhile`), so that two
    /// concurrent changes of one record both take effect instead of the later undoing the earlier.
    static func retryingWhenChangedMeanwhile<T>(_ change: () async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await change()
            } catch let error as StoreError where error == .changedMeanwhile && attempt < 3 {
                attempt += 1
            }
        }
    }
}
