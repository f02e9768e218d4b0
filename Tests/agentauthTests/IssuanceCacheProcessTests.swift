import AgentAuthTesting
import Foundation
import NIOHTTP1
import Testing

/// The token endpoint keeps the clients and agents it has read (docs/oauth.md "Token issuance
/// without store reads"): a change made outside the serving process must still stop issuance
/// on the very next token request there.
@Suite("Token issuance after changes made elsewhere", .serialized)
struct IssuanceCacheProcessTests {
    static func tokenStatus(_ base: String, _ clientID: String, _ secret: String) async throws -> HTTP.Response {
        try await HTTP.send(
            .POST,
            "\(base)/oauth/token",
            headers: HTTP.basicForm(clientID: clientID, secret: secret),
            body: "grant_type=client_credentials"
        )
    }

    static func cli(_ arguments: [String], in directory: URL) async throws -> [String: Any] {
        let result = try await Binaries.agentauth(arguments + ["--json"], in: directory)
        #expect(result.status == 0, "agentauth \(arguments.joined(separator: " ")): \(result.stderr)")
        return result.json
    }

    @Test("the agentauth CLI on the SQLite file of a running server: a disable, rotation, PATCH or delete holds from the next token request")
    func cliOnSQLite() async throws {
        try await withTemporaryDirectory { directory in
            let server = try await AuthServerProcess.start(in: directory)
            defer { server.process.stop() }
            let base = server.base
            let agent = try #require(try await Self.cli(["agents", "create", "cached-agent"], in: directory)["id"] as? String)
            let client = try await Self.cli(["clients", "create", agent, "--scope", "a b"], in: directory)
            let clientID = try #require(client["client_id"] as? String)
            let secret = try #require(client["client_secret"] as? String)
            for _ in 0..<3 {
                #expect(try await Self.tokenStatus(base, clientID, secret).status == 200, "issued, then from the kept client")
            }

            _ = try await Self.cli(["agents", "disable", agent], in: directory)
            let refused = try await Self.tokenStatus(base, clientID, secret)
            #expect(refused.status == 401, "the very next token request after `agents disable` is refused: \(refused.body)")
            #expect(refused.json["error"] as? String == "invalid_client")
            _ = try await Self.cli(["agents", "enable", agent], in: directory)
            #expect(try await Self.tokenStatus(base, clientID, secret).status == 200, "issued again once the agent is enabled")

            _ = try await Self.cli(["clients", "disable", clientID], in: directory)
            #expect(try await Self.tokenStatus(base, clientID, secret).status == 401, "refused after `clients disable`")
            _ = try await Self.cli(["clients", "enable", clientID], in: directory)
            #expect(try await Self.tokenStatus(base, clientID, secret).status == 200)

            let rotated = try await Self.cli(["clients", "rotate-secret", clientID], in: directory)
            let newSecret = try #require(rotated["client_secret"] as? String)
            #expect(try await Self.tokenStatus(base, clientID, secret).status == 401, "the rotated-out secret is refused at once")
            #expect(try await Self.tokenStatus(base, clientID, newSecret).status == 200)

            _ = try await Self.cli(["clients", "update", clientID, "--scope", "a"], in: directory)
            let narrowed = try await Self.tokenStatus(base, clientID, newSecret)
            #expect(narrowed.json["scope"] as? String == "a", "the narrowed scopes apply to the next token: \(narrowed.body)")

            _ = try await Self.cli(["clients", "delete", clientID], in: directory)
            #expect(try await Self.tokenStatus(base, clientID, newSecret).status == 401, "refused after `clients delete`")
        }
    }

    /// Polls the token endpoint until it answers `status` (at most `limit`); how long that took.
    static func timeUntil(
        _ status: Int,
        _ base: String,
        _ clientID: String,
        _ secret: String,
        limit: Duration = .seconds(1)
    ) async throws -> Duration? {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < limit {
            if try await Self.tokenStatus(base, clientID, secret).status == status { return ContinuousClock.now - start }
            try await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    @Test("two nodes on one PostgreSQL: a disable or rotation at B stops issuance at A once B's notification arrives (within 1 s)")
    func twoNodesOnPostgres() async throws {
        let url = try await ThrowawayPostgres.newDatabase(prefix: "agentauth_cache_")
        try await withTemporaryDirectory { directory in
            let initialized = try await Binaries.agentauth(["init", "--json", "--database", url], in: directory)
            let adminKey = try #require(initialized.json["admin_key"] as? String)
            let nodes = try await PostgresCLITests.startNodes(2, url: url, in: directory)
            defer { for node in nodes { node.process.stop() } }
            let (a, b) = (nodes[0].base, nodes[1].base)
            let admin = [("X-API-Key", adminKey), ("Content-Type", "application/json")]
            let agent = try #require(
                try await HTTP.send(.POST, "\(a)/admin/agents", headers: admin, body: #"{"name":"worker"}"#).json["id"] as? String
            )
            let client = try await HTTP.send(.POST, "\(a)/admin/agents/\(agent)/clients", headers: admin, body: #"{"scope":"a"}"#)
            let clientID = try #require(client.json["client_id"] as? String)
            let secret = try #require(client.json["client_secret"] as? String)
            for _ in 0..<3 { #expect(try await Self.tokenStatus(a, clientID, secret).status == 200) }

            #expect(try await HTTP.send(.POST, "\(b)/admin/agents/\(agent)/disable", headers: admin).status == 200)
            let disabled = try await Self.timeUntil(401, a, clientID, secret)
            #expect(disabled != nil, "A refuses the agent disabled at B")
            let refusedAgain = try await Self.tokenStatus(a, clientID, secret)
            #expect(refusedAgain.status == 401, "and keeps refusing: \(refusedAgain.body)")

            #expect(try await HTTP.send(.POST, "\(b)/admin/agents/\(agent)/enable", headers: admin).status == 200)
            #expect(try await Self.timeUntil(200, a, clientID, secret) != nil, "re-enabled at B, A issues again")

            let rotated = try await HTTP.send(.POST, "\(b)/admin/clients/\(clientID)/rotate-secret", headers: admin, body: "{}")
            let newSecret = try #require(rotated.json["client_secret"] as? String, "\(rotated.body)")
            #expect(try await Self.timeUntil(401, a, clientID, secret) != nil, "A refuses the secret rotated out at B")
            #expect(try await Self.tokenStatus(a, clientID, newSecret).status == 200)

            // A's own change holds at A's very next request, with no wait for the notification.
            #expect(try await HTTP.send(.POST, "\(a)/admin/clients/\(clientID)/disable", headers: admin).status == 200)
            #expect(try await Self.tokenStatus(a, clientID, newSecret).status == 401, "a disable at A stops A's next token request")
        }
    }
}
