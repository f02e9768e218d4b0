/// Random public identifiers: a type prefix (`agt_`, `key_`, `cli_`) and 20 base62 characters.
public enum Identifier {
    public static let agentPrefix = "agt_"
    public static let apiKeyPrefix = "key_"

    public static func make(prefix: String) -> String {
        // Eight random bytes per draw from the system generator (one system call each), each byte
        // below 248 = 4 × 62 taken modulo 62 (uniform); a draw per character would cost 20 calls.
        var generator = SystemRandomNumberGenerator()
        var characters: [UInt8] = []
        characters.reserveCapacity(20)
        while characters.count < 20 {
            var word = generator.next()
            for _ in 0..<8 where characters.count < 20 {
                let byte = UInt8(truncatingIfNeeded: word)
                word >>= 8
                if byte < 248 { characters.append(Base62.alphabet[Int(byte % 62)]) }
            }
        }
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
