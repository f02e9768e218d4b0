import AgentAuthTesting
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

extension OperationsProcessTests {
    /// docs/observability.md through the executables: `--log-format json`, `--otlp-endpoint` and a
    /// continued `traceparent` on `agentauth serve`, and `/metrics` on `example-agent-api`.
    @Suite("Observability of the executables")
    struct ObservabilityCLITests {
        /// What an OpenTelemetry collector would receive over OTLP/HTTP.
        final class Received: Sendable {
            private let posts = Mutex<[(path: String, body: [UInt8])]>([])
            func append(_ path: String, _ body: [UInt8]) { posts.withLock { $0.append((path, body)) } }
            var all: [(path: String, body: [UInt8])] { posts.withLock { $0 } }
        }

        /// Runs a receiver that accepts any POST under /v1 on a loopback port until `body` returns.
        static func withReceiver<T>(_ body: (Int, Received) async throws -> T) async throws -> T {
            let received = Received()
            var quiet = Logger(label: "otlp-receiver")
            quiet.logLevel = .critical
            return try await LoopbackServer.run { port, onRunning in
                let router = Router()
                router.post("v1/**") { request, _ -> Response in
                    let buffer = try await request.body.collect(upTo: 16 << 20)
                    received.append(request.uri.path, Array(buffer.readableBytesView))
                    // An empty ExportTraceServiceResponse, as a collector answers.
                    return Response(status: .ok, headers: [.contentType: "application/x-protobuf"])
                }
                return Application(
                    router: router,
                    configuration: .init(address: .hostname("127.0.0.1", port: port)),
                    onServerRunning: onRunning,
                    logger: quiet
                )
            } _: { port in
                try await body(port, received)
            }
        }

        static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        static let traceparent = "00-\(traceID)-00f067aa0ba902b7-01"

        static func bytes(ofHex hex: String) -> [UInt8] {
            var bytes: [UInt8] = []
            var index = hex.startIndex
            while index < hex.endIndex {
                let next = hex.index(index, offsetBy: 2)
                bytes.append(UInt8(hex[index..<next], radix: 16)!)
                index = next
            }
            return bytes
        }

        @Test(
            "serve --log-level trace --log-format json --otlp-endpoint: JSON request lines that continue the caller's traceparent, spans posted to /v1/traces, no credential in any log line"
        )
        func jsonLogsTracingAndExport() async throws {
            try await Self.withReceiver { receiverPort, received in
                try await withTemporaryDirectory { directory in
                    let server = try await AuthServerProcess.start(
                        in: directory,
                        arguments: ["--log-level", "trace", "--log-format", "json", "--otlp-endpoint", "http://127.0.0.1:\(receiverPort)"]
                    )
                    defer { server.process.stop() }
                    let (agentID, credential) = try await Self.reader(
                        server,
                        name: "traced",
                        credential: "clients",
                        #"{"scope":"conversations:read"}"#
                    )
                    let clientID = try #require(credential["client_id"] as? String)
                    let secret = try #require(credential["client_secret"] as? String)
                    let token = try await HTTP.send(
                        .POST,
                        "\(server.base)/oauth/token",
                        headers: HTTP.basicForm(clientID: clientID, secret: secret) + [("traceparent", Self.traceparent)],
                        body: "grant_type=client_credentials"
                    )
                    #expect(token.status == 200)
                    let accessToken = try #require(token.json["access_token"] as? String)
                    let refused = try await HTTP.send(.GET, "\(server.base)/admin/agents", headers: [("Authorization", "Bearer \(accessToken)")])
                    #expect(refused.status == 401)

                    // The request's line names the caller's trace; the span reaches the collector.
                    var line: [String: String]?
                    var exported = false
                    let traceBytes = Self.bytes(ofHex: Self.traceID)
                    let deadline = ContinuousClock.now + .seconds(20)
                    while ContinuousClock.now < deadline, line == nil || !exported {
                        line = Self.jsonLines(server.process.output).first { $0["message"] == "request" && $0["route"] == "/oauth/token" }
                        exported = received.all.contains { $0.path == "/v1/traces" && $0.body.contains(subsequence: traceBytes) }
                        try await Task.sleep(for: .milliseconds(200))
                    }
                    let request = try #require(line, "no request line for /oauth/token in:\n\(server.process.output)")
                    #expect(request["trace_id"] == Self.traceID)
                    #expect(request["status"] == "200")
                    #expect(request["agent_id"] == agentID)
                    #expect(exported, "no span of trace \(Self.traceID) was posted to /v1/traces (\(received.all.map(\.path)))")

                    // Log canary at trace level: the admin key appears once, in the start-up banner
                    // (stdout, not a log line); no credential appears in any log line.
                    let output = server.process.output
                    let logLines = output.split(separator: "\n").filter { $0.hasPrefix("{") }
                    #expect(logLines.count > 5, "the test must actually capture log lines")
                    for logLine in logLines {
                        for credential in [server.adminKey, secret, accessToken] {
                            #expect(!logLine.contains(credential), "a credential reached the logs: \(logLine)")
                        }
                    }
                    #expect(!output.contains(secret) && !output.contains(accessToken))
                    #expect(output.split(separator: "\n").filter { $0.contains(server.adminKey) }.allSatisfy { !$0.hasPrefix("{") })
                }
            }
        }

        @Test("example-agent-api serves /metrics: verifications and requests by route template, the feed's lag, no token or id in a label")
        func exampleAPIMetrics() async throws {
            try await withTemporaryDirectory { directory in
                let server = try await AuthServerProcess.start(in: directory)
                defer { server.process.stop() }
                let example = try await ExampleAPIProcess.start(
                    authServer: server.base,
                    admin: server.admin,
                    in: directory,
                    arguments: ["--log-format", "json"]
                )
                defer { example.process.stop() }
                let (agentID, client) = try await Self.reader(server, name: "reader", credential: "clients", #"{"scope":"conversations:read"}"#)
                let token = try await HTTP.clientCredentialsToken(
                    server.base,
                    clientID: try #require(client["client_id"] as? String),
                    secret: try #require(client["client_secret"] as? String)
                )
                #expect(try await HTTP.send(.GET, "\(example.base)/v1/conversations", headers: [("Authorization", "Bearer \(token)")]).status == 200)
                #expect(try await HTTP.send(.GET, "\(example.base)/v1/conversations", headers: [("Authorization", "Bearer \(token)x")]).status == 401)

                let scrape = try await HTTP.send(.GET, "\(example.base)/metrics")
                #expect(scrape.status == 200)
                let samples = try PrometheusSamples(parsing: scrape.body)
                #expect(samples.value("agentauth_verifications_total", ["method": "jwt", "result": "valid"]) == 1)
                #expect(samples.value("agentauth_verifications_total", ["method": "jwt", "result": "invalid"]) == 1)
                #expect(samples.value("agentauth_http_requests_total", ["route": "/v1/conversations", "status": "200"]) == 1)
                #expect(samples.value("agentauth_http_requests_total", ["route": "/v1/conversations", "status": "401"]) == 1)
                let lag = try #require(samples.samples.first { $0.name == "agentauth_revocation_feed_lag_seconds" }).value
                #expect(lag >= 0 && lag < 15, "feed lag \(lag)")
                for value in samples.labelValues {
                    #expect(!value.contains(token) && !value.contains(agentID), "a label holds a token or an id: \(value)")
                }
                let line = Self.jsonLines(example.process.output).first {
                    $0["message"] == "request" && $0["route"] == "/v1/conversations" && $0["status"] == "200"
                }
                #expect(line?["agent_id"] == agentID)
            }
        }

        @Test("example-agent-api's introspection call carries the caller's traceparent on to the auth server")
        func introspectionContinuesTrace() async throws {
            try await Self.withReceiver { receiverPort, _ in
                try await withTemporaryDirectory { directory in
                    let tracing = ["--log-format", "json", "--otlp-endpoint", "http://127.0.0.1:\(receiverPort)"]
                    let server = try await AuthServerProcess.start(in: directory, arguments: tracing)
                    defer { server.process.stop() }
                    let example = try await ExampleAPIProcess.start(authServer: server.base, admin: server.admin, in: directory, arguments: tracing)
                    defer { example.process.stop() }
                    let (_, key) = try await Self.reader(server, name: "keyed", credential: "keys", #"{"scopes":["conversations:read"]}"#)
                    let apiKey = try #require(key["key"] as? String)
                    let answer = try await HTTP.send(
                        .GET,
                        "\(example.base)/v1/conversations",
                        headers: [("X-API-Key", apiKey), ("traceparent", Self.traceparent)]
                    )
                    #expect(answer.status == 200)
                    var introspection: [String: String]?
                    let deadline = ContinuousClock.now + .seconds(10)
                    while ContinuousClock.now < deadline, introspection == nil {
                        introspection = Self.jsonLines(server.process.output).first {
                            $0["route"] == "/oauth/introspect" && $0["trace_id"] == Self.traceID
                        }
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    #expect(
                        introspection != nil,
                        "no introspection request of trace \(Self.traceID) at the auth server:\n\(server.process.output)\nexample:\n\(example.process.output)"
                    )
                    #expect(!example.process.output.contains(apiKey) && !server.process.output.contains(apiKey))
                }
            }
        }

        @Test(
            "serve refuses a wrong --log-level, --log-format or --otlp-endpoint with one line, before creating anything",
            arguments: [
                (["--log-level", "loud"], "--log-level must be one of"),
                (["--log-format", "xml"], "--log-format must be text or json"),
                (["--otlp-endpoint", "127.0.0.1:4318"], "--otlp-endpoint must be an http or https URL"),
            ]
        )
        func refusesWrongValues(arguments: [String], message: String) async throws {
            try await withTemporaryDirectory { directory in
                let result = try await Binaries.agentauth(["serve", "--port", "\(try LoopbackPort.free())"] + arguments, in: directory)
                #expect(result.status != 0)
                #expect(result.stderr.contains(message), "\(result.stderr)")
                #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty, "serve created files before refusing")
            }
        }

        /// A new agent and one credential of it (`clients` or `keys`, made from `json`) through the
        /// admin API: the agent's id and the credential's JSON.
        static func reader(_ server: AuthServerProcess, name: String, credential: String, _ json: String) async throws -> (String, [String: Any]) {
            let agent = try await HTTP.send(.POST, "\(server.base)/admin/agents", headers: server.admin, body: #"{"name":"\#(name)"}"#)
            let agentID = try #require(agent.json["id"] as? String)
            let made = try await HTTP.send(.POST, "\(server.base)/admin/agents/\(agentID)/\(credential)", headers: server.admin, body: json)
            #expect(made.status == 201, "\(made.body)")
            return (agentID, made.json)
        }

        /// The JSON objects among a process's output lines.
        static func jsonLines(_ output: String) -> [[String: String]] {
            output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] }
        }
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence: [UInt8]) -> Bool {
        guard subsequence.count <= count else { return false }
        return (0...(count - subsequence.count)).contains { self[$0..<($0 + subsequence.count)].elementsEqual(subsequence) }
    }
}
