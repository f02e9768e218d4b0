import AgentAuthHTTP
import AgentAuthServer
import AgentAuthTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

/// docs/observability.md on a live auth server: `GET /metrics` after real traffic, counted
/// exactly, under bounded labels; one JSON line per request; no credential in any log line.
@Suite("Metrics and request logs of the auth server")
struct ObservabilityTests {
    /// Every line a JSON log handler wrote, at trace level.
    final class CapturedLines: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
        /// The per-request lines, parsed.
        var requests: [[String: String]] {
            all.compactMap { line in
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String] else { return nil }
                return object["message"] == "request" ? object : nil
            }
        }
    }

    static func jsonLogger(_ captured: CapturedLines) -> Logger {
        var logger = Logger(label: "agentauth-test") { label in JSONLogHandler(label: label) { captured.append($0) } }
        logger.logLevel = .trace
        return logger
    }

    static func scrape(_ api: TestAPI) async throws -> PrometheusSamples {
        let response = try await api.request(.get, "/metrics")
        #expect(response.status == .ok)
        #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
        return try PrometheusSamples(parsing: String(buffer: response.body))
    }

    @Test("counters move by exactly the traffic sent, routes are templates, and no label or log line holds an id or a credential")
    func countsTrafficWithBoundedLabels() async throws {
        try await TestEnvironment.with { env in
            let captured = CapturedLines()
            let metrics = AgentAuthMetrics.isolated()
            let app = try await env.server.application(env.configuration(), logger: Self.jsonLogger(captured), metrics: metrics)
            try await app.test(.live) { client in
                let api = TestAPI(client: client, adminKey: env.adminKey)
                let agent = try await api.createAgent()
                let (clientID, secret) = try await api.createClient(agent: agent, json: #"{"scope":"conversations:read"}"#)
                let clientSecret = try #require(secret)
                let (keyID, apiKey) = try await api.createKey(agent: agent, scopes: ["introspect"])
                let before = try await Self.scrape(api)

                var tokens: [String] = []
                for _ in 0..<3 {
                    let response = try await api.token(form: "grant_type=client_credentials", basic: (clientID, clientSecret))
                    #expect(response.status == .ok)
                    tokens.append(try #require(response.object["access_token"] as? String))
                }
                let wrong = try await api.token(form: "grant_type=client_credentials", basic: (clientID, String(clientSecret.reversed())))
                #expect(wrong.status == .unauthorized)
                // A token for resource servers, presented to the admin API: refused (audience).
                let refused = try await api.request(.get, "/admin/agents", headers: [.authorization: "Bearer \(tokens[0])"])
                #expect(refused.status == .unauthorized)
                #expect(try await api.admin(.get, "/admin/agents/\(agent)").status == .ok)
                let introspected = try await api.request(.post, "/oauth/introspect", key: apiKey, form: "token=\(tokens[1])")
                #expect(introspected.status == .ok)
                #expect(try await api.request(.get, "/no/such/route/\(agent)").status == .notFound)

                let after = try await Self.scrape(api)
                func delta(_ name: String, _ labels: [String: String] = [:]) -> Double { after.value(name, labels) - before.value(name, labels) }
                #expect(delta("agentauth_tokens_issued_total", ["grant": "client_credentials"]) == 3)
                #expect(delta("agentauth_authentication_failures_total", ["reason": "wrong_secret"]) == 1)
                #expect(delta("agentauth_authentication_failures_total", ["reason": "invalid_access_token"]) == 1)
                #expect(delta("agentauth_http_requests_total", ["route": "/oauth/token", "status": "200"]) == 3)
                #expect(delta("agentauth_http_requests_total", ["route": "/oauth/token", "status": "401"]) == 1)
                #expect(delta("agentauth_http_requests_total", ["route": "/admin/agents/{agent}", "status": "200"]) == 1)
                #expect(delta("agentauth_http_requests_total", ["route": "/oauth/introspect", "status": "200"]) == 1)
                #expect(
                    delta("agentauth_http_requests_total", ["route": AgentAuthMetrics.unmatchedRoute, "status": "404"]) == 1,
                    "\(after.samples.filter { $0.labels["status"] == "404" })"
                )
                // The first scrape is counted by the second: a histogram observation per request.
                #expect(delta("agentauth_http_request_duration_seconds_count", ["route": "/oauth/token"]) == 4)
                #expect(after.contains("agentauth_audit_queue_depth"))
                // The background services time their store calls within a few of their 100 ms rounds.
                var storeTimed = after.value("agentauth_store_duration_seconds_count", ["operation": "revocation_sync"])
                for _ in 0..<30 where storeTimed == 0 {
                    try await Task.sleep(for: .milliseconds(100))
                    storeTimed = try await Self.scrape(api).value("agentauth_store_duration_seconds_count", ["operation": "revocation_sync"])
                }
                #expect(storeTimed > 0)

                let secrets = [env.adminKey, clientSecret, apiKey] + tokens
                let identifiers = [agent, clientID, keyID, env.adminAgentID]
                for value in after.labelValues {
                    for forbidden in secrets + identifiers {
                        #expect(!value.contains(forbidden), "a label value holds an id or a credential: \(value)")
                    }
                }
                #expect(!after.labelValues.contains { $0.contains("/no/such") }, "a raw path became a label")

                // Logs: one JSON line per request, with the agent when it authenticated; no credential anywhere.
                let lines = captured.all
                #expect(lines.count > 10, "the test must actually capture logs")
                for line in lines {
                    #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: String], "not one JSON object: \(line)")
                    for secret in secrets {
                        #expect(!line.contains(secret), "a credential reached the logs: \(line)")
                    }
                }
                let requests = captured.requests
                let issued = requests.filter { $0["route"] == "/oauth/token" && $0["status"] == "200" }
                #expect(issued.count == 3)
                #expect(issued.allSatisfy { $0["agent_id"] == agent && $0["request_id"]?.isEmpty == false && $0["duration_ms"] != nil })
                #expect(requests.contains { $0["route"] == "/admin/agents/{agent}" && $0["agent_id"] == env.adminAgentID && $0["method"] == "GET" })
                #expect(requests.contains { $0["route"] == AgentAuthMetrics.unmatchedRoute && $0["status"] == "404" && $0["agent_id"] == nil })
            }
        }
    }

    @Test("two servers in one process keep their own counts")
    func separateRegistries() async throws {
        try await TestEnvironment.with { env in
            let first = AgentAuthMetrics.isolated()
            let second = AgentAuthMetrics.isolated()
            let firstApp = try await env.server.application(env.configuration(), metrics: first)
            let secondApp = try await env.server.application(env.configuration(), metrics: second)
            try await firstApp.test(.live) { client in
                let response = try await client.executeRequest(uri: "/healthz", method: .get, headers: [:], body: nil)
                #expect(response.status == .ok)
            }
            try await secondApp.test(.live) { client in
                for _ in 0..<2 {
                    let response = try await client.executeRequest(uri: "/healthz", method: .get, headers: [:], body: nil)
                    #expect(response.status == .ok)
                }
            }
            let firstSamples = try PrometheusSamples(parsing: first.prometheusText())
            let secondSamples = try PrometheusSamples(parsing: second.prometheusText())
            #expect(firstSamples.value("agentauth_http_requests_total", ["route": "/healthz"]) == 1)
            #expect(secondSamples.value("agentauth_http_requests_total", ["route": "/healthz"]) == 2)
        }
    }
}
