import AgentAuthTesting
import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Testing

/// The README's walkthrough, run as a new user would: `agentauth serve`, the admin API with the
/// printed key, then `example-agent-api` called with a scoped key.
@Suite("README walkthrough", .serialized)
struct WalkthroughTests {
    @Test("serve → create agent and key → call the example API → revoke")
    func walkthrough() async throws {
        try await withTemporaryDirectory { directory in
            let started = try await AuthServerProcess.start(in: directory)
            let server = started.process
            defer { server.stop() }
            let auth = started.base
            let admin = started.admin
            let agent = try await HTTP.send(.POST, "\(auth)/admin/agents", headers: admin, body: #"{"name":"research-agent"}"#)
            #expect(agent.status == 201)
            let agentID = try #require(agent.json["id"] as? String)
            let key = try await HTTP.send(.POST, "\(auth)/admin/agents/\(agentID)/keys", headers: admin, body: #"{"scopes":["conversations:read"]}"#)
            #expect(key.status == 201)
            #expect(key.headers.first(name: "Cache-Control") == "no-store")
            let apiKey = try #require(key.json["key"] as? String)
            let keyID = try #require(key.json["id"] as? String)
            let gateway = try await HTTP.send(.POST, "\(auth)/admin/agents", headers: admin, body: #"{"name":"example-api"}"#)
            let gatewayKey = try await HTTP.send(
                .POST,
                "\(auth)/admin/agents/\(try #require(gateway.json["id"] as? String))/keys",
                headers: admin,
                body: #"{"scopes":["introspect"]}"#
            )
            let introspectionKey = try #require(gatewayKey.json["key"] as? String)

            let apiPort = try LoopbackPort.free()
            let exampleAPI = try await RunningProcess(
                "example-agent-api",
                ["--auth-server", auth, "--port", "\(apiPort)"],
                in: directory,
                environment: ["AGENTAUTH_INTROSPECTION_KEY": introspectionKey]
            )
            defer { exampleAPI.stop() }
            let api = "http://127.0.0.1:\(apiPort)"
            try await Self.waitUntilHealthy(api)

            let conversations = try await HTTP.send(.GET, "\(api)/v1/conversations", headers: [("X-API-Key", apiKey)])
            #expect(conversations.status == 200)
            #expect(conversations.json["conversations"] as? [Any] != nil)
            let balance = try await HTTP.send(.GET, "\(api)/v1/billing/balance", headers: [("X-API-Key", apiKey)])
            #expect(balance.status == 403)
            #expect(balance.headers.first(name: "WWW-Authenticate") == #"Bearer error="insufficient_scope", scope="billing:read""#)

            let billingKey = try await HTTP.send(.POST, "\(auth)/admin/agents/\(agentID)/keys", headers: admin, body: #"{"scopes":["billing:read"]}"#)
            let billing = try await HTTP.send(
                .GET,
                "\(api)/v1/billing/balance",
                headers: [("X-API-Key", try #require(billingKey.json["key"] as? String))]
            )
            #expect(billing.status == 200)
            #expect(billing.json["currency"] as? String == "USD")
            #expect(billing.json["balance"] as? Double == 150.0)

            // OAuth client credentials: a client of the same agent, a token, the same two routes.
            let client = try await HTTP.send(
                .POST,
                "\(auth)/admin/agents/\(agentID)/clients",
                headers: admin,
                body: #"{"scope":"conversations:read"}"#
            )
            #expect(client.status == 201)
            let clientID = try #require(client.json["client_id"] as? String)
            let clientSecret = try #require(client.json["client_secret"] as? String)
            let basic = "Basic " + Data("\(clientID):\(clientSecret)".utf8).base64EncodedString()
            let tokenResponse = try await HTTP.send(
                .POST,
                "\(auth)/oauth/token",
                headers: [("Authorization", basic), ("Content-Type", "application/x-www-form-urlencoded")],
                body: "grant_type=client_credentials"
            )
            #expect(tokenResponse.status == 200)
            let accessToken = try #require(tokenResponse.json["access_token"] as? String)
            let withToken = try await HTTP.send(.GET, "\(api)/v1/conversations", headers: [("Authorization", "Bearer \(accessToken)")])
            #expect(withToken.status == 200)
            let tokenForbidden = try await HTTP.send(.GET, "\(api)/v1/billing/balance", headers: [("Authorization", "Bearer \(accessToken)")])
            #expect(tokenForbidden.status == 403)
            #expect(tokenForbidden.headers.first(name: "WWW-Authenticate") == #"Bearer error="insufficient_scope", scope="billing:read""#)

            #expect(try await HTTP.send(.POST, "\(auth)/admin/keys/\(keyID)/revoke", headers: admin).status == 200)
            let afterRevoke = try await HTTP.send(.GET, "\(api)/v1/conversations", headers: [("X-API-Key", apiKey)])
            #expect(afterRevoke.status == 401, "a revoked key fails on the very next request")

            #expect(server.output.components(separatedBy: "sk-agent-").count == 2, "the admin key is printed exactly once")
            #expect(!server.output.contains(apiKey), "other keys never reach the server's output")
        }
    }

    @Test("serve on an initialised database prints no key")
    func restart() async throws {
        try await withTemporaryDirectory { directory in
            #expect(try await Binaries.agentauth(["init", "--json"], in: directory).status == 0)
            let port = try LoopbackPort.free()
            let server = try await RunningProcess("agentauth", ["serve", "--port", "\(port)"], in: directory)
            defer { server.stop() }
            try await server.waitForOutput("AgentAuth listening")
            try await Self.waitUntilHealthy("http://127.0.0.1:\(port)")
            #expect(!server.output.contains("sk-agent-"))
        }
    }

    static func waitUntilHealthy(_ base: String, client: HTTPClient = .shared) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let response = try? await HTTP.send(.GET, "\(base)/healthz", client: client), response.status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CLIFailure("\(base) never became healthy")
    }
}
