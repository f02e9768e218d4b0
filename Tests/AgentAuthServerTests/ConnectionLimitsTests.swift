import AgentAuthHTTP
import AgentAuthServer
import AgentAuthTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The HTTP layer every AgentAuth server runs on (`HTTPServerBuilder.agentAuthHTTP1`): request
/// head and body deadlines (SECURITY-CASES 59) and the connection cap, over real sockets against
/// the auth server, with short deadlines so the tests stay short.
@Suite("Connection limits and request deadlines")
struct ConnectionLimitsTests {
    /// Runs `body` with the port and admin key of a live auth server that has `limits`.
    static func live(_ limits: ConnectionLimits, _ body: @escaping @Sendable (_ port: Int, _ adminKey: String) async throws -> Void) async throws {
        try await TestEnvironment.with { env in
            var configuration = env.configuration()
            configuration.connectionLimits = limits
            try await env.server.application(configuration, logger: env.logger).test(.live) { client in
                try await body(try #require(client.port), env.adminKey)
            }
        }
    }

    /// Sends `bytes` one at a time, `interval` apart, until the server closes the connection;
    /// returns what it answered and when it closed (nil: it never did while bytes were left).
    static func dribble(_ bytes: [UInt8], over connection: RawConnection, interval: Duration) -> (answer: [UInt8], closedAfter: Duration?) {
        let start = ContinuousClock.now
        var answer: [UInt8] = []
        for byte in bytes {
            guard connection.send([byte]) else { return (answer, ContinuousClock.now - start) }
            let read = connection.read(timeout: interval)
            answer += read.bytes
            if read.closed { return (answer, ContinuousClock.now - start) }
        }
        return (answer, nil)
    }

    /// A GET on a fresh connection (the test client's own connection, opened at the start, may
    /// already be past a short head deadline).
    static func get(_ path: String, port: Int, headerLines: [String] = []) async throws -> RawResponse {
        let connection = try RawConnection(port: port)
        connection.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headerLines.map { $0 + "\r\n" }.joined() + "\r\n")
        return RawResponse(try await RawConnection.offPool { connection.read(timeout: .seconds(10), untilResponseEnd: true) }.bytes)
    }

    static let slowHead = Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: \(String(repeating: "a", count: 40))\r\n\r\n".utf8)

    @Test("59: a request head sent a byte a second is answered 408 and closed at the head deadline")
    func slowHead() async throws {
        try await Self.live(ConnectionLimits(requestHeadTimeout: .seconds(3))) { port, _ in
            let connection = try RawConnection(port: port)
            let (answer, closedAfter) = try await RawConnection.offPool { Self.dribble(Self.slowHead, over: connection, interval: .seconds(1)) }
            let after = try #require(closedAfter, "the connection outlived the whole head")
            #expect(after >= .seconds(2) && after < .seconds(6), "closed after \(after)")
            let response = RawResponse(answer)
            #expect(response.status == 408)
            #expect(response.headers["connection"] == "close")
            #expect(response.body.contains(#""error":"invalid_request""#))
            #expect(try await Self.get("/healthz", port: port).status == 200)
        }
    }

    @Test("59: a connection that sends nothing is closed at the head deadline, without an answer")
    func silentConnection() async throws {
        try await Self.live(ConnectionLimits(requestHeadTimeout: .seconds(2))) { port, _ in
            let connection = try RawConnection(port: port)
            let started = ContinuousClock.now
            let read = try await RawConnection.offPool { connection.read(timeout: .seconds(10)) }
            #expect(read.closed)
            #expect(read.bytes.isEmpty)
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    @Test("59: a body sent a byte a second is answered 408 and closed at the body deadline")
    func slowBody() async throws {
        try await Self.live(ConnectionLimits(requestHeadTimeout: .seconds(30), requestBodyTimeout: .seconds(2))) { port, _ in
            let connection = try RawConnection(port: port)
            let form = "grant_type=client_credentials&client_id=cli_x&client_secret=y"
            connection.send(
                "POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\n\r\n"
            )
            let (answer, closedAfter) = try await RawConnection.offPool { Self.dribble(Array(form.utf8), over: connection, interval: .seconds(1)) }
            let after = try #require(closedAfter, "the connection outlived the whole body")
            #expect(after < .seconds(5), "closed after \(after)")
            #expect(RawResponse(answer).status == 408)
        }
    }

    @Test("a kept-alive connection may idle past the head deadline; its next head must then arrive in time")
    func keepAlive() async throws {
        try await Self.live(ConnectionLimits(requestHeadTimeout: .seconds(2))) { port, _ in
            let connection = try RawConnection(port: port)
            connection.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            let first = try await RawConnection.offPool { connection.read(timeout: .seconds(5), untilResponseEnd: true) }
            #expect(RawResponse(first.bytes).status == 200)
            // Idle between requests: only the idle timeout (75 s) applies.
            #expect(try await RawConnection.offPool { !connection.closedByPeer(within: .seconds(3)) })
            let (answer, closedAfter) = try await RawConnection.offPool { Self.dribble(Self.slowHead, over: connection, interval: .seconds(1)) }
            let after = try #require(closedAfter)
            #expect(after < .seconds(5), "closed after \(after)")
            #expect(RawResponse(answer).status == 408)
        }
    }

    @Test("a long-poll that outlasts both deadlines is answered normally")
    func longPollOutlastsDeadlines() async throws {
        try await Self.live(ConnectionLimits(requestHeadTimeout: .seconds(1), requestBodyTimeout: .seconds(1))) { port, adminKey in
            let started = ContinuousClock.now
            let answer = try await Self.get("/oauth/revocations?after=0&wait=3", port: port, headerLines: ["X-API-Key: \(adminKey)"])
            #expect(answer.status == 200)
            #expect(ContinuousClock.now - started >= .seconds(3))
        }
    }

    @Test("connections past the cap are closed as they are accepted; a slot that frees up serves again")
    func connectionCap() async throws {
        try await Self.live(ConnectionLimits(maxConnections: 3)) { port, _ in
            var admitted: [RawConnection] = []
            var refused = 0
            for _ in 0..<6 {
                let connection = try RawConnection(port: port)
                if try await RawConnection.offPool({ connection.closedByPeer(within: .milliseconds(500)) }) {
                    refused += 1
                } else {
                    admitted.append(connection)
                }
            }
            // The test client's own connection may hold one of the three slots.
            #expect((2...3).contains(admitted.count))
            #expect(refused == 6 - admitted.count)
            admitted.removeLast()
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await Self.get("/healthz", port: port).status == 200)
            #expect(admitted.count >= 1)
        }
    }

    @Test("59: the default deadlines are under a minute; the default cap keeps a reserve below the descriptor limit")
    func defaults() {
        let limits = ConnectionLimits()
        #expect(limits.requestHeadTimeout == .seconds(20))
        #expect(limits.requestHeadTimeout < .seconds(60))
        #expect(limits.requestBodyTimeout == .seconds(30))
        #expect(limits.maxConnections == nil)
        #expect(limits.effectiveMaxConnections == DescriptorLimit.current - DescriptorLimit.reserve)
        #expect(DescriptorLimit.defaultMaxConnections(limit: 1024) == 896)
        #expect(DescriptorLimit.problem(maxConnections: 896, limit: 1024) == nil)
        #expect(DescriptorLimit.problem(maxConnections: 897, limit: 1024) != nil)
        #expect(DescriptorLimit.problem(maxConnections: 0, limit: 1024) != nil)
        #expect(throws: InvalidConnectionLimits.self) {
            try ConnectionLimits.raisingDescriptorLimit(maxConnections: nil, requestHeadTimeoutSeconds: 61, requestBodyTimeoutSeconds: 30)
        }
    }
}
