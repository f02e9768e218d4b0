import AgentAuthTesting
import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Testing

extension OperationsProcessTests {
    /// `--tls-cert` and `--tls-key` on `agentauth serve` and `example-agent-api`, with a self-signed
    /// certificate made in the test and clients that trust it alone.
    @Suite("HTTPS: serve and example-agent-api with --tls-cert and --tls-key")
    struct TLSTests {
        /// `serve` over HTTPS with a certificate made for the test, and a client trusting it alone.
        static func withHTTPSServer(
            arguments: [String] = [],
            _ body: (AuthServerProcess, TestCertificate, HTTPClient, URL) async throws -> Void
        ) async throws {
            try await withTemporaryDirectory { directory in
                let certificate = try TestCertificate(in: directory)
                try await certificate.withClient { client in
                    let server = try await AuthServerProcess.start(in: directory, arguments: certificate.serveArguments + arguments, client: client)
                    defer { server.process.stop() }
                    try await body(server, certificate, client, directory)
                }
            }
        }

        @Test(
            "HTTPS end to end: a token from /oauth/token, the example API over HTTPS verifying it against the HTTPS auth server; plain HTTP to the port refused"
        )
        func endToEnd() async throws {
            try await Self.withHTTPSServer { server, certificate, client, directory in
                #expect(
                    server.process.output.contains("AgentAuth listening on \(server.base) (issuer \(server.base))"),
                    "the default issuer is https"
                )
                let metadata = try await HTTP.send(.GET, "\(server.base)/.well-known/oauth-authorization-server", client: client)
                #expect(metadata.json["issuer"] as? String == server.base)
                #expect(metadata.json["token_endpoint"] as? String == "\(server.base)/oauth/token")

                // Plain HTTP to the TLS port fails the handshake; so does a client not trusting the certificate.
                await #expect(throws: (any Error).self) { try await HTTP.send(.GET, "http://127.0.0.1:\(server.port)/healthz", timeout: 5) }
                await #expect(throws: (any Error).self) { try await HTTP.send(.GET, "\(server.base)/healthz", timeout: 5) }

                let agent = try await HTTP.send(.POST, "\(server.base)/admin/agents", headers: server.admin, body: #"{"name":"tls"}"#, client: client)
                let agentID = try #require(agent.json["id"] as? String, "\(agent.body)")
                let registered = try await HTTP.send(
                    .POST,
                    "\(server.base)/admin/agents/\(agentID)/clients",
                    headers: server.admin,
                    body: #"{"scope":"conversations:read"}"#,
                    client: client
                )
                let token = try await HTTP.clientCredentialsToken(
                    server.base,
                    clientID: try #require(registered.json["client_id"] as? String, "\(registered.body)"),
                    secret: try #require(registered.json["client_secret"] as? String),
                    client: client
                )

                let api = try await ExampleAPIProcess.start(
                    authServer: server.base,
                    admin: server.admin,
                    in: directory,
                    arguments: [
                        "--tls-cert", certificate.certificateFile, "--tls-key", certificate.keyFile, "--auth-server-ca", certificate.certificateFile,
                    ],
                    client: client
                )
                defer { api.process.stop() }
                #expect(api.base.hasPrefix("https://"))
                let served = try await HTTP.send(
                    .GET,
                    "\(api.base)/v1/conversations",
                    headers: [("Authorization", "Bearer \(token)")],
                    client: client
                )
                #expect(served.status == 200, "\(served.body)")
                let forged = try await HTTP.send(
                    .GET,
                    "\(api.base)/v1/conversations",
                    headers: [("Authorization", "Bearer \(token)x")],
                    client: client
                )
                #expect(forged.status == 401)
                // An API key is checked by introspection: a request from the API to the auth server over HTTPS.
                let key = try await HTTP.send(
                    .POST,
                    "\(server.base)/admin/agents/\(agentID)/keys",
                    headers: server.admin,
                    body: #"{"scopes":["conversations:read"]}"#,
                    client: client
                )
                let apiKey = try #require(key.json["key"] as? String, "\(key.body)")
                let introspected = try await HTTP.send(.GET, "\(api.base)/v1/conversations", headers: [("X-API-Key", apiKey)], client: client)
                #expect(introspected.status == 200, "\(introspected.body)")
                await #expect(throws: (any Error).self) {
                    try await HTTP.send(.GET, "http://127.0.0.1:\(api.base.split(separator: ":").last!)/healthz", timeout: 5)
                }
            }
        }

        @Test(
            "TLS wraps the guarded channel: a plain-HTTP request gets no HTTP answer and is closed; a silent connection is closed at the head deadline"
        )
        func guardedUnderTLS() async throws {
            try await Self.withHTTPSServer(arguments: ["--request-head-timeout", "1"]) { server, _, client, _ in
                let port = server.port
                let (plain, silentClosed) = try await RawConnection.offPool {
                    let plain = try RawConnection(port: port)
                    plain.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    let answer = plain.read(timeout: .seconds(5))
                    // Never starts a handshake: before TLS, only the deadline can close it.
                    let silent = try RawConnection(port: port)
                    return (answer, silent.closedByPeer(within: .seconds(5)))
                }
                #expect(plain.closed, "the plain-HTTP connection is closed")
                #expect(!String(decoding: plain.bytes, as: UTF8.self).hasPrefix("HTTP/"), "no HTTP answer over the TLS port")
                #expect(silentClosed, "a connection that never handshakes is closed at the 1 s head deadline")
                #expect(try await HTTP.send(.GET, "\(server.base)/healthz", client: client).status == 200)
            }
        }

        @Test(
            "refused at start with one line, before the database is created: one flag alone, an unreadable file, a file without PEM, a key of another certificate"
        )
        func refusals() async throws {
            try await withTemporaryDirectory { directory in
                let certificate = try TestCertificate(in: directory, name: "server")
                let other = try TestCertificate(in: directory, name: "other")
                let missing = directory.appendingPathComponent("missing.crt").path
                let garbage = directory.appendingPathComponent("garbage.crt").path
                try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: garbage))
                let database = directory.appendingPathComponent("agentauth.sqlite").path
                let serve = ["serve", "--port", "\(try LoopbackPort.free())", "--database", database]
                let cases: [([String], String)] = [
                    (
                        ["--tls-cert", certificate.certificateFile, "--tls-key", other.keyFile],
                        "Error: the TLS private key in \(other.keyFile) does not match the certificate in \(certificate.certificateFile)"
                    ),
                    (["--tls-cert", missing, "--tls-key", certificate.keyFile], "Error: cannot read the TLS certificate file \(missing)"),
                    (
                        ["--tls-cert", garbage, "--tls-key", certificate.keyFile],
                        "Error: the TLS certificate file \(garbage) holds no PEM certificate"
                    ),
                    (
                        ["--tls-cert", certificate.certificateFile, "--tls-key", certificate.certificateFile],
                        "Error: the TLS private key file \(certificate.certificateFile) holds no PEM private key (PKCS #8, SEC1 or RSA)"
                    ),
                ]
                for (arguments, message) in cases {
                    let result = try await Binaries.agentauth(serve + arguments, in: directory)
                    #expect(result.status == 1, "\(arguments): \(result.stdout)\(result.stderr)")
                    #expect(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines) == message)
                }
                let alone = try await Binaries.agentauth(serve + ["--tls-cert", certificate.certificateFile], in: directory)
                #expect(alone.status != 0)
                #expect(alone.stderr.hasPrefix("Error: --tls-cert and --tls-key must be given together"), "\(alone.stderr)")
                #expect(!FileManager.default.fileExists(atPath: database), "nothing was created")

                let api = try await ChildProcess.run(
                    Binaries.url("example-agent-api").path,
                    [
                        "--auth-server", "https://127.0.0.1:1", "--introspection-key", "sk-agent-x", "--port", "\(try LoopbackPort.free())",
                        "--tls-cert",
                        certificate.certificateFile, "--tls-key", other.keyFile,
                    ],
                    environment: ProcessInfo.processInfo.environment,
                    directory: directory.path
                )
                #expect(api.status == 1)
                #expect(
                    api.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
                        == "Error: the TLS private key in \(other.keyFile) does not match the certificate in \(certificate.certificateFile)"
                )
            }
        }
    }
}
