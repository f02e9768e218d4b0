/// A set of scopes, parsed from and printed as the RFC 6749 §3.3 space-delimited list.
///
/// Printing is sorted so that stored and returned values are stable.
public struct ScopeSet: Hashable, Sendable, Sequence, CustomStringConvertible {
    public private(set) var scopes: Set<Scope>

    /// The most scope tokens one list may carry (DESIGN.md "Bad input").
    public static let maxCount = 100

    public init() {
        self.scopes = []
    }

    public init(_ scopes: some Sequence<Scope>) {
        self.scopes = Set(scopes)
    }

    /// Parses a space-delimited scope string. RFC 6749 §3.3 allows exactly one space (%x20)
    /// between tokens; leading, trailing or doubled spaces and any other separator are refused.
    public init(parsing string: String) throws(ScopeError) {
        guard !string.isEmpty else { throw .empty }
        let parts = string.split(separator: " ", omittingEmptySubsequences: false)
        try self.init(validating: parts.map(String.init))
    }

    /// Validates a list of scope tokens, as sent in JSON arrays.
    public init(validating tokens: [String]) throws(ScopeError) {
        guard tokens.count <= Self.maxCount else { throw .tooMany(limit: Self.maxCount) }
        var scopes = Set<Scope>()
        for token in tokens {
            guard let scope = Scope(token) else { throw .malformed(token) }
            scopes.insert(scope)
        }
        guard !scopes.isEmpty else { throw .empty }
        self.scopes = scopes
    }

    public var isEmpty: Bool { scopes.isEmpty }
    public var count: Int { scopes.count }

    public func contains(_ scope: Scope) -> Bool { scopes.contains(scope) }

    public func isSuperset(of other: ScopeSet) -> Bool { scopes.isSuperset(of: other.scopes) }

    public func intersection(_ other: ScopeSet) -> ScopeSet { ScopeSet(scopes.intersection(other.scopes)) }

    /// Sorted tokens, for JSON output.
    public var sortedValues: [String] { scopes.sorted().map(\.value) }

    /// The RFC 6749 §3.3 form: tokens joined by single spaces.
    public var description: String { sortedValues.joined(separator: " ") }

    public func makeIterator() -> Set<Scope>.Iterator { scopes.makeIterator() }
}

/// Why a scope list was refused.
public enum ScopeError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case malformed(String)
    case tooMany(limit: Int)

    public var description: String {
        switch self {
        case .empty: "scope list is empty"
        case .malformed: "scope contains characters outside RFC 6749 §3.3 scope-token or is too long"
        case .tooMany(let limit): "more than \(limit) scopes"
        }
    }
}
