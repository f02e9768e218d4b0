import AgentAuthTesting
import Foundation
import NIOHTTP1
import Testing

extension OperationsProcessTests {
    /// `--trusted-proxy`: forwarding headers give the client's address only when the TCP peer is a
    /// trusted proxy; what the failure limiter counts and the audit log records follows it.
    @Suite("Client address behind a reverse proxy (--trusted-proxy)")
    struct TrustedProxyTests {
        /// A registered client, so failures are counted per client and address.
        static func registeredClient(_ server: AuthServerProcess) async throws -> String {
            let agent = try await HTTP.send(.POST, "\(server.base)/admin/agents", headers: server.admin, body: #"{"name":"proxied"}"#)
            let agentID = try #require(agent.json["id"] as? String, "\(agent.body)")
            let client = try await HTTP.send(
                .POST,
                "\(server.base)/admin/agents/\(agentID)/clients",
                headers: server.admin,
                body: #"{"scope":"conversations:read"}"#
            )
            return try #require(client.json["client_id"] as? String, "\(client.body)")
        }

        /// A client authentication with a wrong secret; its status (401, or 429 once locked out).
        static func failedAuthentication(_ server: AuthServerProcess, clientID: String, headers: [(String, String)]) async throws -> Int {
            try await HTTP.send(
                .POST,
                "\(server.base)/oauth/token",
                headers: [("Content-Type", "application/x-www-form-urlencoded")] + headers,
                body: "grant_type=client_credentials&client_id=\(clientID)&client_secret=wrong"
            ).status
        }

        /// Failures recorded per client address, read after the server stopped (its last flush).
        static func failuresByAddress(in directory: URL) async throws -> [String: Int] {
            let audit = try await Binaries.agentauth(["audit", "list", "--type", "client_auth.failure", "--json", "--limit", "1000"], in: directory)
            let events = try #require(audit.json["events"] as? [[String: Any]], "\(audit.stdout)\(audit.stderr)")
            var counts: [String: Int] = [:]
            for event in events {
                let count = (event["details"] as? [String: String])?["count"].flatMap(Int.init) ?? 0
                counts[event["client_address"] as? String ?? "-", default: 0] += count
            }
            return counts
        }

        @Test(
            "from a peer that is not a trusted proxy, spoofed Forwarded / X-Forwarded-For change nothing: the lockout and the audit follow the real peer",
            arguments: [[], ["--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "2001:db8::/32"]]
        )
        func untrustedPeer(arguments: [String]) async throws {
            try await withTemporaryDirectory { directory in
                let server = try await AuthServerProcess.start(in: directory, arguments: arguments)
                let clientID = try await Self.registeredClient(server)
                var statuses: [Int] = []
                for attempt in 0..<11 {
                    // A new address each time: were any believed, no pair would reach the limit.
                    let spoof =
                        attempt.isMultiple(of: 2)
                        ? [("X-Forwarded-For", "198.51.100.\(attempt)")] : [("Forwarded", "for=198.51.100.\(attempt);proto=https")]
                    statuses.append(try await Self.failedAuthentication(server, clientID: clientID, headers: spoof))
                }
                #expect(statuses == Array(repeating: 401, count: 10) + [429], "the 11th failure from the real peer is locked out: \(statuses)")
                server.process.stop()
                #expect(try await Self.failuresByAddress(in: directory) == ["127.0.0.1": 11])
            }
        }

        @Test(
            "from a trusted proxy (loopback), the right-most untrusted forwarded address is the client's: the lockout is theirs, the audit records it"
        )
        func trustedPeer() async throws {
            try await withTemporaryDirectory { directory in
                let server = try await AuthServerProcess.start(
                    in: directory,
                    arguments: ["--trusted-proxy", "127.0.0.0/8", "--trusted-proxy", "::1"]
                )
                let clientID = try await Self.registeredClient(server)
                var statuses: [Int] = []
                for _ in 0..<11 {
                    // A forged left-most entry, then the address the proxy saw, then a second trusted proxy.
                    let chain = [("X-Forwarded-For", "192.0.2.66, 203.0.113.7"), ("X-Forwarded-For", "127.0.0.2")]
                    statuses.append(try await Self.failedAuthentication(server, clientID: clientID, headers: chain))
                }
                #expect(statuses == Array(repeating: 401, count: 10) + [429], "\(statuses)")
                // Another forwarded client is not locked out by 203.0.113.7's failures.
                #expect(try await Self.failedAuthentication(server, clientID: clientID, headers: [("X-Forwarded-For", "203.0.113.8")]) == 401)
                #expect(
                    try await Self.failedAuthentication(
                        server,
                        clientID: clientID,
                        headers: [("Forwarded", #"for="[2001:db8::7]:4711";proto=https, for=127.0.0.1"#)]
                    )
                        == 401
                )
                // Malformed or ambiguous values: the peer's address, never a 500.
                let peerCases: [[(String, String)]] = [
                    [("X-Forwarded-For", "not-an-address")],
                    [("Forwarded", #"for="203.0.113.9"#)],
                    [("Forwarded", "for=unknown")],
                    [("Forwarded", "for=203.0.113.10"), ("X-Forwarded-For", "203.0.113.11")],
                ]
                for headers in peerCases {
                    #expect(try await Self.failedAuthentication(server, clientID: clientID, headers: headers) == 401, "\(headers)")
                }
                server.process.stop()
                #expect(
                    try await Self.failuresByAddress(in: directory) == [
                        "203.0.113.7": 11, "203.0.113.8": 1, "2001:db8::7": 1, "127.0.0.1": peerCases.count,
                    ]
                )
            }
        }
    }
}
