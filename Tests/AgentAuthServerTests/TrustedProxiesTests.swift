import AgentAuthHTTP
import Testing

/// How the client's address is read from forwarding headers (`--trusted-proxy`).
@Suite("Trusted proxies and the client address")
struct TrustedProxiesTests {
    let proxies = try! TrustedProxies(["10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "::1"])

    @Test("ranges and single addresses, IPv4 and IPv6; an IPv4-mapped peer matches its IPv4 range")
    func ranges() throws {
        #expect(proxies.contains("10.255.0.1"))
        #expect(!proxies.contains("11.0.0.1"))
        #expect(proxies.contains("192.0.2.7"))
        #expect(!proxies.contains("192.0.2.8"))
        #expect(proxies.contains("2001:db8:ffff::1"))
        #expect(!proxies.contains("2001:db9::1"))
        #expect(proxies.contains("::1"))
        #expect(proxies.contains("::ffff:10.1.2.3"))
        #expect(!proxies.contains("not an address"))
        #expect(try TrustedProxies(["172.16.0.0/12"]).contains("172.31.255.255"))
        #expect(!(try TrustedProxies(["172.16.0.0/12"]).contains("172.32.0.0")))
    }

    @Test(
        "values that are neither an address nor a range are refused",
        arguments: ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0/8", "example.com", "", "10.0.0.0/+8"]
    )
    func invalid(value: String) {
        #expect(throws: InvalidTrustedProxy.self) { try TrustedProxies([value]) }
    }

    @Test("the right-most address that is not a trusted proxy, from X-Forwarded-For or Forwarded")
    func rightMostUntrusted() {
        #expect(proxies.clientAddress(peer: "10.0.0.1", forwarded: [], xForwardedFor: ["198.51.100.1, 203.0.113.5, 10.0.0.2"]) == "203.0.113.5")
        #expect(proxies.clientAddress(peer: "10.0.0.1", forwarded: [], xForwardedFor: ["198.51.100.1", "203.0.113.5:4711"]) == "203.0.113.5")
        #expect(
            proxies.clientAddress(
                peer: "::1",
                forwarded: [#"for=198.51.100.1, for="[2001:db9::5]:80";proto=https"#, "for=192.0.2.7"],
                xForwardedFor: []
            )
                == "2001:db9::5"
        )
        #expect(proxies.clientAddress(peer: "::ffff:10.0.0.1", forwarded: ["For=203.0.113.9"], xForwardedFor: []) == "203.0.113.9")
        // Every hop trusted: the left-most.
        #expect(proxies.clientAddress(peer: "10.0.0.1", forwarded: [], xForwardedFor: ["10.0.0.3, 10.0.0.2"]) == "10.0.0.3")
    }

    @Test("the peer's address: from an untrusted peer, without trusted proxies, or when the headers are malformed or ambiguous")
    func peer() {
        #expect(proxies.clientAddress(peer: "203.0.113.1", forwarded: [], xForwardedFor: ["198.51.100.1"]) == "203.0.113.1")
        #expect(TrustedProxies.none.clientAddress(peer: "10.0.0.1", forwarded: [], xForwardedFor: ["198.51.100.1"]) == "10.0.0.1")
        let malformed: [([String], [String])] = [
            ([], ["not-an-address"]),
            ([], ["198.51.100.1, , "]),
            (["for=\"198.51.100.1"], []),
            (["proto=https"], []),
            (["for=unknown"], []),
            (["for=_hidden"], []),
            (["for=198.51.100.1;for=198.51.100.2"], []),
            (["for=198.51.100.1"], ["198.51.100.2"]),
        ]
        for (forwarded, xForwardedFor) in malformed {
            #expect(
                proxies.clientAddress(peer: "10.0.0.1", forwarded: forwarded, xForwardedFor: xForwardedFor) == "10.0.0.1",
                "\(forwarded) \(xForwardedFor)"
            )
        }
        // An address left of an unknown hop is not reached: the hop that decides is the right-most untrusted one.
        #expect(proxies.clientAddress(peer: "10.0.0.1", forwarded: [], xForwardedFor: ["198.51.100.1, unknown"]) == "10.0.0.1")
    }
}
