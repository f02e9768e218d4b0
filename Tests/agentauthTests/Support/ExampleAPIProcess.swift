import AgentAuthTesting
import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Testing

/// `example-agent-api` started as its README section says: an `example-api` agent with an
/// `introspect` key made through the admin API, the process on a free port, healthy.
struct ExampleAPIProcess {
    let process: RunningProcess
    let base: String

    /// With `client`, the auth server and this API are reached over HTTPS through it (the
    /// arguments give the API's `--tls-cert`, `--tls-key` and `--auth-server-ca`).
    static func start(
        authServer: String,
        admin: [(String, String)],
        in directory: URL,
        arguments: [String] = [],
        client: HTTPClient? = nil
    ) async throws -> ExampleAPIProcess {
        let http = client ?? .shared
        let gateway = try await HTTP.send(.POST, "\(authServer)/admin/agents", headers: admin, body: #"{"name":"example-api"}"#, client: http)
        let gatewayID = try #require(gateway.json["id"] as? String)
        let key = try await HTTP.send(
            .POST,
            "\(authServer)/admin/agents/\(gatewayID)/keys",
            headers: admin,
            body: #"{"scopes":["introspect"]}"#,
            client: http
        )
        let port = try LoopbackPort.free()
        let process = try await RunningProcess(
            "example-agent-api",
            ["--auth-server", authServer, "--port", "\(port)"] + arguments,
            in: directory,
            environment: ["AGENTAUTH_INTROSPECTION_KEY": try #require(key.json["key"] as? String)]
        )
        let base = "\(client == nil ? "http" : "https")://127.0.0.1:\(port)"
        do {
            try await WalkthroughTests.waitUntilHealthy(base, client: http)
            // Ready once the revocation feed has answered: before that, Bearer tokens get 503.
            let deadline = ContinuousClock.now + .seconds(20)
            while (try? await HTTP.send(.GET, "\(base)/readyz", client: http))?.status != 200 {
                guard ContinuousClock.now < deadline else { throw CLIFailure("example-agent-api never became ready") }
                try await Task.sleep(for: .milliseconds(50))
            }
        } catch {
            process.stop()
            throw error
        }
        return ExampleAPIProcess(process: process, base: base)
    }
}

extension HTTP {
    /// Headers of a form request from a client with Basic credentials (generated ids and secrets
    /// need no form-encoding first).
    static func basicForm(clientID: String, secret: String) -> [(String, String)] {
        [
            ("Authorization", "Basic " + Data("\(clientID):\(secret)".utf8).base64EncodedString()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ]
    }

    /// A token for a new agent `helper` acting for the holder of `subjectToken` (RFC 8693 token
    /// exchange, with a client of the helper's own); the answer, whose `access_token` carries
    /// `act` and `ancestors`.
    static func delegatedToken(_ authServer: String, admin: [(String, String)], subjectToken: String) async throws -> Response {
        let helper = try await send(.POST, "\(authServer)/admin/agents", headers: admin, body: #"{"name":"helper"}"#)
        let helperClient = try await send(
            .POST,
            "\(authServer)/admin/agents/\(try #require(helper.json["id"] as? String))/clients",
            headers: admin,
            body: #"{"scope":"conversations:read"}"#
        )
        return try await send(
            .POST,
            "\(authServer)/oauth/token",
            headers: basicForm(
                clientID: try #require(helperClient.json["client_id"] as? String),
                secret: try #require(helperClient.json["client_secret"] as? String)
            ),
            body:
                "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=\(subjectToken)&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token"
        )
    }

    /// `POST /oauth/token` with client_credentials and Basic credentials; the access token.
    static func clientCredentialsToken(_ authServer: String, clientID: String, secret: String, client: HTTPClient = .shared) async throws -> String {
        let response = try await send(
            .POST,
            "\(authServer)/oauth/token",
            headers: basicForm(clientID: clientID, secret: secret),
            body: "grant_type=client_credentials",
            client: client
        )
        return try #require(response.json["access_token"] as? String, "\(response.body)")
    }
}
