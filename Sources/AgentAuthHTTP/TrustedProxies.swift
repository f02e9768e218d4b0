#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The reverse proxies whose forwarding headers are believed (`--trusted-proxy`): IPv4 and IPv6
/// ranges in CIDR notation, or single addresses. Empty (the default): forwarding headers are
/// ignored and the client's address is the TCP peer's.
public struct TrustedProxies: Sendable {
    struct Range: Sendable {
        let bytes: [UInt8]
        let prefixLength: Int

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == bytes.count else { return false }
            let whole = prefixLength / 8
            guard address[..<whole] == bytes[..<whole] else { return false }
            let bits = prefixLength % 8
            guard bits > 0 else { return true }
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            return address[whole] & mask == bytes[whole] & mask
        }
    }

    let ranges: [Range]

    /// No trusted proxy.
    public static let none = TrustedProxies(ranges: [])

    init(ranges: [Range]) {
        self.ranges = ranges
    }

    /// - Parameter ranges: e.g. `10.0.0.0/8`, `192.0.2.7`, `2001:db8::/32`, `::1`.
    /// - Throws: `InvalidTrustedProxy` naming the first value that is not an address or range.
    public init(_ ranges: [String]) throws(InvalidTrustedProxy) {
        var parsed: [Range] = []
        for text in ranges {
            let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard let bytes = Self.addressBytes(String(parts[0])) else { throw InvalidTrustedProxy(value: text) }
            var prefixLength = bytes.count * 8
            if parts.count == 2 {
                guard let length = Int(parts[1]), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), (0...bytes.count * 8).contains(length) else {
                    throw InvalidTrustedProxy(value: text)
                }
                prefixLength = length
            }
            parsed.append(Range(bytes: bytes, prefixLength: prefixLength))
        }
        self.ranges = parsed
    }

    public var isEmpty: Bool { ranges.isEmpty }

    /// Whether `address` (textual IPv4 or IPv6) is in a trusted range.
    public func contains(_ address: String) -> Bool {
        guard let bytes = Self.addressBytes(address) else { return false }
        return contains(bytes: bytes)
    }

    func contains(bytes: [UInt8]) -> Bool {
        ranges.contains { $0.contains(bytes) }
    }

    /// The 4 or 16 bytes of a textual address; an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`,
    /// what a dual-stack socket reports for an IPv4 peer) as its IPv4 bytes, so one range covers both.
    static func addressBytes(_ text: String) -> [UInt8]? {
        guard !text.isEmpty, text.utf8.count <= 64 else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF { return Array(bytes[12...]) }
        return bytes
    }

    /// The canonical text of 4 or 16 address bytes.
    static func text(_ bytes: [UInt8]) -> String {
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = bytes.withUnsafeBytes { source in inet_ntop(family, source.baseAddress, &buffer, socklen_t(buffer.count)) != nil }
        guard ok else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A `--trusted-proxy` value that is neither an IP address nor a CIDR range.
public struct InvalidTrustedProxy: Error, CustomStringConvertible {
    public let value: String

    /// What is wrong, without naming where the value came from.
    public var reason: String {
        "\(value): not an IPv4 or IPv6 address or CIDR range (e.g. 10.0.0.0/8, 2001:db8::/32, 192.0.2.7)"
    }

    public var description: String { "--trusted-proxy " + reason }
}
