import AgentAuthCore
import AgentAuthTesting
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import AgentAuthClient

@Suite("AgentHTTPClient against a real resource server")
struct AgentHTTPClientTests {
    /// Waits until the resource server refuses `token` (the revocation feed reached it).
    static func waitUntilRefused(_ servers: TestServers, _ token: String) async throws {
        for _ in 0..<200 {
            if try await servers.apiStatus(bearer: token) == 401 { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw TestFailure("the resource server kept accepting a revoked token")
    }

    @Test("a 401 invalid_token from the API → one refresh and a successful retry")
    func refreshesOnceOnInvalidToken() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient()
            let tokens = servers.manager(credentials)
            let client = AgentHTTPClient(tokens: tokens)
            #expect(try await client.execute(.GET, servers.api + "/v1/conversations").status == .ok)
            let revoked = try await tokens.token()
            try await servers.revoke(revoked)
            try await Self.waitUntilRefused(servers, revoked)
            #expect(servers.faults.count == 1)

            let response = try await client.execute(.GET, servers.api + "/v1/conversations")
            #expect(response.status == .ok)
            let body = try await response.body.collect(upTo: 1 << 16)
            #expect(String(buffer: body).contains("conversations"))
            #expect(servers.faults.count == 2, "exactly one refresh")
            #expect(try await tokens.token() != revoked)
        }
    }

    @Test("20 requests refused at once with the same token → still one refresh")
    func concurrentRefusalsShareOneRefresh() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient()
            let tokens = servers.manager(credentials)
            let client = AgentHTTPClient(tokens: tokens)
            let revoked = try await tokens.token()
            try await servers.revoke(revoked)
            try await Self.waitUntilRefused(servers, revoked)
            let statuses = try await withThrowingTaskGroup(of: UInt.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await client.execute(.GET, servers.api + "/v1/conversations").status.code }
                }
                return try await group.reduce(into: [UInt]()) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 20))
            #expect(servers.faults.count == 2, "invalidate(token) kept the refreshed token for the other 19")
        }
    }

    @Test("a 403 insufficient_scope is returned as it is: a new token would not help")
    func otherRefusalsAreNotRetried() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient(scope: "billing:read")
            let client = AgentHTTPClient(tokens: servers.manager(credentials))
            let response = try await client.execute(.GET, servers.api + "/v1/conversations")
            #expect(response.status == .forbidden)
            #expect(response.headers.first(name: "WWW-Authenticate")?.contains("insufficient_scope") == true)
            #expect(servers.faults.count == 1)
        }
    }

    @Test("the agent disabled: the API's 401 leads to one token request, which throws invalid_client")
    func disabledAgentEndsInATypedError() async throws {
        try await TestServers.with { servers in
            let (agentID, credentials) = try await servers.basicClient()
            let tokens = servers.manager(credentials)
            let client = AgentHTTPClient(tokens: tokens)
            let token = try await tokens.token()
            _ = try await AgentAdministration(store: servers.store).setStatus(agentID: agentID, .disabled, by: .test)
            try await Self.waitUntilRefused(servers, token)
            let error = await #expect(throws: TokenRequestError.self) {
                try await client.execute(.GET, servers.api + "/v1/conversations")
            }
            #expect(error?.code == .invalidClient)
            #expect(servers.faults.count == 2)
        }
    }

    @Test("an API key goes in X-API-Key; its 401 comes back without any token request")
    func apiKeys() async throws {
        try await TestServers.with { servers in
            let administration = AgentAdministration(store: servers.store)
            let agent = try await administration.createAgent(name: "key-agent", by: .test)
            let issued = try await APIKeyAdministration(store: administration.store).createAPIKey(
                agentID: agent.id,
                APIKeyRequest(scopes: ["conversations:read"]),
                by: .test
            )
            let client = AgentHTTPClient(apiKey: issued.plaintext)
            #expect(try await client.execute(.GET, servers.api + "/v1/conversations").status == .ok)
            _ = try await APIKeyAdministration(store: administration.store).revokeAPIKey(id: issued.record.id, by: .test)
            #expect(try await client.execute(.GET, servers.api + "/v1/conversations").status == .unauthorized)
            #expect(servers.faults.count == 0)
        }
    }

    @Test(
        "only an RFC 6750 error=\"invalid_token\" parameter counts",
        arguments: [
            (#"Bearer error="invalid_token""#, true),
            (#"Bearer realm="api", error="invalid_token", error_description="revoked""#, true),
            (#"Bearer realm="api, v1", error="invalid_token""#, true),
            (#"Bearer realm="api",error="invalid_token""#, true),
            (#"bearer error=invalid_token"#, true),
            (#"Bearer error="insufficient_scope", scope="a b""#, false),
            (#"Bearer error_description="error=\"invalid_token\"", error="invalid_request""#, false),
            (#"Bearer realm="error=\"invalid_token\"""#, false),
            (#"Basic realm="x", error="invalid_token""#, false),
            (#"Bearer"#, false),
        ]
    )
    func bearerChallenges(header: String, invalidToken: Bool) {
        // Through HTTPHeaders, as `execute` reads them: the comma inside a quoted realm and the
        // commas between parameters must not cut the challenge apart.
        #expect(BearerChallenge.saysInvalidToken(HTTPHeaders([("WWW-Authenticate", header)])) == invalidToken)
    }

    @Test("one challenge per header line or several in one value: the Bearer one is found")
    func severalChallenges() {
        #expect(
            BearerChallenge.saysInvalidToken(
                HTTPHeaders([("WWW-Authenticate", #"Basic realm="x""#), ("WWW-Authenticate", #"Bearer error="invalid_token""#)])
            )
        )
        #expect(
            BearerChallenge.saysInvalidToken(HTTPHeaders([("WWW-Authenticate", #"Basic realm="x, y", Bearer realm="a,b", error="invalid_token""#)]))
        )
        #expect(!BearerChallenge.saysInvalidToken(HTTPHeaders([("WWW-Authenticate", #"Bearer realm="a", Basic error="invalid_token""#)])))
    }

    @Test("a redirect from the API is returned, not followed: the API key would go along")
    func redirectNotFollowed() async throws {
        try await TestServers.with { servers in
            let administration = AgentAdministration(store: servers.store)
            let agent = try await administration.createAgent(name: "key-agent", by: .test)
            let issued = try await APIKeyAdministration(store: administration.store).createAPIKey(
                agentID: agent.id,
                APIKeyRequest(scopes: ["conversations:read"]),
                by: .test
            )
            let response = try await AgentHTTPClient(apiKey: issued.plaintext).execute(.GET, servers.api + "/redirect")
            #expect(response.status == .temporaryRedirect, "following it would have answered 200 with the key")
        }
    }
}
