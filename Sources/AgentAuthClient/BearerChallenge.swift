/// Reads RFC 6750 §3 challenges: `Bearer realm="…", error="invalid_token", error_description="…"`.
/// The parameters are parsed (quoted strings with escapes included), so an `error_description`
/// that happens to contain `error="invalid_token"` is not taken for the error code.
enum BearerChallenge {
    static func saysInvalidToken(_ values: [Substring]) -> Bool {
        values.contains { errorCode(in: String($0)) == "invalid_token" }
    }

    /// The `error` parameter of a Bearer challenge in one `WWW-Authenticate` value.
    static func errorCode(in header: String) -> String? {
        var rest = Substring(header)
        skipSpaces(&rest)
        guard rest.prefix(6).lowercased() == "bearer" else { return nil }
        rest = rest.dropFirst(6)
        guard rest.isEmpty || rest.first == " " else { return nil }
        while !rest.isEmpty {
            skipSpaces(&rest)
            let name = rest.prefix { $0 != "=" && $0 != "," && $0 != " " }
            rest = rest.dropFirst(name.count)
            skipSpaces(&rest)
            guard rest.first == "=" else {
                // Another scheme's challenge starts here (or a stray token): stop.
                return nil
            }
            rest = rest.dropFirst()
            skipSpaces(&rest)
            let value: String
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var unquoted = ""
                while let character = rest.first, character != "\"" {
                    rest = rest.dropFirst()
                    if character == "\\", let escaped = rest.first {
                        unquoted.append(escaped)
                        rest = rest.dropFirst()
                    } else {
                        unquoted.append(character)
                    }
                }
                rest = rest.dropFirst()
                value = unquoted
            } else {
                let token = rest.prefix { $0 != "," && $0 != " " }
                rest = rest.dropFirst(token.count)
                value = String(token)
            }
            if name.lowercased() == "error" { return value }
            skipSpaces(&rest)
            if rest.first == "," { rest = rest.dropFirst() }
        }
        return nil
    }

    private static func skipSpaces(_ text: inout Substring) {
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
    }
}
