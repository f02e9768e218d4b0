/// One member of a PATCH body (RFC 7396 JSON merge patch semantics): absent leaves the field as
/// it is, `null` removes it, a value sets it. `Optional` can't tell absent from `null` once
/// decoded, so the admin API decodes such members with `decodePatch(_:forKey:)`.
public enum FieldPatch<Value: Sendable>: Sendable {
    /// The member was absent: keep the current value.
    case unchanged
    /// The member was `null`: remove the value.
    case removed
    /// The member held a value: set it.
    case set(Value)

    /// The value after the patch, for a field whose current value is `current`.
    public func applied(to current: Value?) -> Value? {
        switch self {
        case .unchanged: current
        case .removed: nil
        case .set(let value): value
        }
    }

    /// Whether the member was present (`null` or a value).
    public var isPresent: Bool {
        if case .unchanged = self { return false }
        return true
    }

    /// The same patch with its value transformed (validated, parsed).
    public func map<T: Sendable>(_ transform: (Value) throws -> T) rethrows -> FieldPatch<T> {
        switch self {
        case .unchanged: .unchanged
        case .removed: .removed
        case .set(let value): .set(try transform(value))
        }
    }
}

extension FieldPatch: Equatable where Value: Equatable {}
extension FieldPatch: Hashable where Value: Hashable {}

extension KeyedDecodingContainer {
    /// Decodes a PATCH member: `.unchanged` when the key is absent, `.removed` when it is `null`,
    /// `.set` with the decoded value otherwise (a value of the wrong type throws).
    public func decodePatch<T: Decodable & Sendable>(_ type: T.Type, forKey key: Key) throws -> FieldPatch<T> {
        guard contains(key) else { return .unchanged }
        if try decodeNil(forKey: key) { return .removed }
        return .set(try decode(type, forKey: key))
    }

    /// Decodes a PATCH member that can be changed but not removed: `nil` when the key is
    /// absent; `null` throws, as a value of the wrong type does.
    public func decodeUnlessNull<T: Decodable & Sendable>(_ type: T.Type, forKey key: Key) throws -> T? {
        switch try decodePatch(type, forKey: key) {
        case .unchanged: return nil
        case .removed:
            throw DecodingError.valueNotFound(type, .init(codingPath: codingPath + [key], debugDescription: "\(key.stringValue) cannot be null"))
        case .set(let value): return value
        }
    }
}
