import AgentAuthCore
import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Testing

@testable import AgentAuthClient

@Suite("An agent running for hours")
struct LongRunningAgentTests {
    @Test("3 simulated hours, 8 concurrent callers every 10 s, 5-minute tokens, one revocation: no failed call, one token request per refresh")
    func hoursAcrossManyTokenLifetimes() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient(tokenTTL: 300)
            let tokens = servers.manager(credentials)
            let client = AgentHTTPClient(tokens: tokens)
            let step = 10
            let steps = 3 * 3600 / step
            var failures: [String] = []
            var revokedAt: Int?
            for index in 0..<steps {
                if index == steps / 2 {
                    // Halfway, the current token is revoked; the callers must not notice.
                    let current = try await tokens.token()
                    try await servers.revoke(current)
                    try await AgentHTTPClientTests.waitUntilRefused(servers, current)
                    revokedAt = index
                }
                let statuses = try await withThrowingTaskGroup(of: UInt.self) { group in
                    for _ in 0..<8 {
                        group.addTask { try await client.execute(.GET, servers.api + "/v1/conversations").status.code }
                    }
                    return try await group.reduce(into: [UInt]()) { $0.append($1) }
                }
                failures += statuses.filter { $0 != 200 }.map { "t=\(index * step)s: \($0)" }
                servers.clock.advance(.seconds(step))
            }
            #expect(failures.isEmpty, "\(failures.prefix(5))")
            #expect(revokedAt != nil)
            // A 300 s token is used until 60 s before expiry, then replaced behind the callers: at
            // most one request per 240 s of running (plus the one the revocation caused), and at
            // least one per 300 s, or calls would have failed.
            let running = steps * step
            #expect((running / 300...running / 240 + 2).contains(servers.faults.count), "\(servers.faults.count) token requests in \(running) s")
        }
    }
}
