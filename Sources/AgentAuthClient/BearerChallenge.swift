import NIOHTTP1

/// Reads RFC 6750 §3 challenges: `Bearer realm="…", error="invalid_token", error_description="…"`.
/// Header values are taken whole (NIO's comma-splitting accessor would cut a challenge at every
/// comma, quoted or not), one value may hold several challenges (RFC 9110 §11.6.1), and
/// parameters are parsed with quoted strings and escapes, so an `error_description` or a realm
/// that happens to contain `error="invalid_token"` is not taken for the error code.
enum BearerChallenge {
    static func saysInvalidToken(_ headers: HTTPHeaders) -> Bool {
        headers["WWW-Authenticate"].contains { errorCode(in: $0) == "invalid_token" }
    }

    /// The `error` parameter of the Bearer challenge in one `WWW-Authenticate` value.
    static func errorCode(in header: String) -> String? {
        var rest = Substring(header)
        var scheme: Substring?
        while true {
            rest = rest.drop { $0 == " " || $0 == "\t" || $0 == "," }
            guard !rest.isEmpty else { return nil }
            let token = rest.prefix { $0 != " " && $0 != "\t" && $0 != "," && $0 != "=" }
            guard !token.isEmpty else { return nil }
            rest = rest.dropFirst(token.count).drop { $0 == " " || $0 == "\t" }
            guard rest.first == "=" else {
                // A token not followed by `=` starts the next challenge.
                scheme = token
                continue
            }
            rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
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
                let bare = rest.prefix { $0 != "," && $0 != " " && $0 != "\t" }
                rest = rest.dropFirst(bare.count)
                value = String(bare)
            }
            if scheme?.lowercased() == "bearer", token.lowercased() == "error" { return value }
        }
    }
}
