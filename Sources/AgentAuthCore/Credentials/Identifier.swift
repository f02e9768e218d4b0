/// Random public identifiers: a type prefix (`agt_`, `key_`, `cli_`) and 20 base62 characters.
public enum Identifier {
    public static let agentPrefix = "agt_"
    public static let apiKeyPrefix = "key_"

    public static func make(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<20).map { _ in Base62.alphabet[Int.random(in: 0..<62, using: &generator)] }
        return prefix + String(decoding: characters, as: UTF8.self)
    }

    /// Whether `value` looks like an identifier of this kind; used to refuse junk before a lookup.
    public static func isValid(_ value: String, prefix: String) -> Bool {
        let bytes = Array(value.utf8)
        let prefixBytes = Array(prefix.utf8)
        return bytes.count == prefixBytes.count + 20 && bytes.starts(with: prefixBytes)
            && bytes[prefixBytes.count...].allSatisfy(Base62.isDigit)
    }
}
