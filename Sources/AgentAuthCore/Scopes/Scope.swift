/// One OAuth scope token, exactly as RFC 6749 §3.3 defines it:
/// `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
///
/// Scopes are compared byte for byte: `Admin` and `admin` are different scopes.
public struct Scope: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let value: String

    /// The longest scope token accepted; longer ones are refused as malformed.
    public static let maxLength = 128

    public init?(_ value: String) {
        guard Self.isValid(value) else { return nil }
        self.value = value
    }

    public static func isValid(_ value: String) -> Bool {
        let bytes = value.utf8
        guard !bytes.isEmpty, bytes.count <= maxLength else { return false }
        return bytes.allSatisfy { byte in
            byte == 0x21 || (0x23...0x5B).contains(byte) || (0x5D...0x7E).contains(byte)
        }
    }

    public var description: String { value }

    public static func < (lhs: Scope, rhs: Scope) -> Bool { lhs.value < rhs.value }

    /// Full administrative access to the admin API.
    public static let admin = Scope(unchecked: "admin")
    /// May call the introspection endpoint (and, later, follow the revocation feed).
    public static let introspect = Scope(unchecked: "introspect")

    init(unchecked value: String) {
        self.value = value
    }
}
