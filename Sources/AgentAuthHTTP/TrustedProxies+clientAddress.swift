extension TrustedProxies {
    /// The client's address: the TCP peer's, unless the peer is a trusted proxy, in which case
    /// the right-most address of the forwarding chain that is not itself a trusted proxy (each
    /// proxy appends the address it was connected from, so everything right of the first
    /// untrusted hop was written by a proxy we trust, and everything left of it may be forged).
    ///
    /// The chain is read from `Forwarded` (RFC 7239 §5.2, `for=`) or `X-Forwarded-For`, whichever
    /// is present. When both are, or a value is malformed, or the hop that decides is not an IP
    /// address (`unknown`, an obfuscated identifier), the peer's address is used: a client can
    /// add either header itself, so an ambiguous chain never picks the address.
    ///
    /// - Parameters:
    ///   - peer: the TCP peer's address.
    ///   - forwarded: the `Forwarded` field lines, in order.
    ///   - xForwardedFor: the `X-Forwarded-For` field lines, in order.
    public func clientAddress(peer: String?, forwarded: [String], xForwardedFor: [String]) -> String? {
        guard let peer, !isEmpty, contains(peer) else { return peer }
        let chain: [String]?
        switch (forwarded.isEmpty, xForwardedFor.isEmpty) {
        case (false, true): chain = Self.forwardedFor(forwarded)
        case (true, false): chain = xForwardedFor.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map(Self.trimmed)
        default: chain = nil
        }
        guard let chain, !chain.isEmpty, chain.count <= 64 else { return peer }
        var hops: [[UInt8]] = []
        for node in chain {
            guard let bytes = Self.nodeAddress(node) else {
                hops.append([])  // not an address: decides only if it is the right-most untrusted hop
                continue
            }
            hops.append(bytes)
        }
        for hop in hops.reversed() where hop.isEmpty || !contains(bytes: hop) {
            return hop.isEmpty ? peer : Self.text(hop)
        }
        // Every hop is a trusted proxy: the left-most is as far back as the chain goes.
        return hops.first.map(Self.text) ?? peer
    }

    /// The `for=` values of `Forwarded` elements, left to right; nil when an element has none or
    /// a value is malformed.
    static func forwardedFor(_ lines: [String]) -> [String]? {
        var result: [String] = []
        for element in lines.flatMap({ splitOutsideQuotes($0, on: ",") }) {
            var value: String?
            for pair in splitOutsideQuotes(element, on: ";") {
                let trimmedPair = trimmed(pair)
                guard let equals = trimmedPair.firstIndex(of: "=") else { return nil }
                guard trimmedPair[..<equals].lowercased() == "for" else { continue }
                guard value == nil, let unquoted = unquote(trimmed(trimmedPair[trimmedPair.index(after: equals)...])) else { return nil }
                value = unquoted
            }
            guard let value else { return nil }
            result.append(value)
        }
        return result
    }

    /// The address of a node: `192.0.2.1`, `192.0.2.1:8080`, `[2001:db8::1]`, `[2001:db8::1]:8080`, `2001:db8::1`.
    static func nodeAddress(_ node: String) -> [UInt8]? {
        var host = Substring(node)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            host = host[host.index(after: host.startIndex)..<close]
        } else if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") {
            host = host[..<colon]
        }
        return addressBytes(String(host))
    }

    static func splitOutsideQuotes(_ text: String, on separator: Character) -> [String] {
        var parts: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for character in text {
            if escaped {
                escaped = false
            } else if quoted, character == "\\" {
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
            } else if character == separator, !quoted {
                parts.append(current)
                current = ""
                continue
            }
            current.append(character)
        }
        parts.append(current)
        return parts
    }

    /// A token as is, a quoted string without its quotes and escapes; nil when a quote is unbalanced.
    static func unquote(_ value: String) -> String? {
        guard value.hasPrefix("\"") else { return value.contains("\"") ? nil : value }
        guard value.count >= 2, value.hasSuffix("\"") else { return nil }
        var result = ""
        var escaped = false
        for character in value.dropFirst().dropLast() {
            if escaped {
                result.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                result.append(character)
            }
        }
        return escaped ? nil : result
    }

    static func trimmed(_ text: some StringProtocol) -> String {
        String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
