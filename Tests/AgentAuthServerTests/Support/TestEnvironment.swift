import AgentAuthCore
import AgentAuthHTTP
import AgentAuthSQLite
import AgentAuthServer
import AgentAuthTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization

/// The test auth server (`TestAuthServer`) with what the server's own tests add: every log
/// line recorded, a fixed issuer, and request helpers.
struct TestEnvironment: Sendable {
    let server: TestAuthServer
    let logs: RecordingLogHandler.Storage

    var directory: URL { server.directory }
    var store: SQLiteStore { server.store }
    var adminKey: String { server.adminKey }
    var adminAgentID: String { server.adminAgentID }
    var masterKey: MasterKey { server.masterKey }

    static let issuer = "http://agentauth.test"

    static func with<T>(_ body: (TestEnvironment) async throws -> T) async throws -> T {
        try await TestAuthServer.with { server in
            try await body(TestEnvironment(server: server, logs: .init()))
        }
    }

    var logger: Logger {
        var logger = Logger(label: "agentauth-test") { _ in RecordingLogHandler(storage: logs) }
        logger.logLevel = .trace
        return logger
    }

    func configuration(
        clientFailureLimit: Int = 10,
        maxDelegationDepth: Int = 3,
        activationDelay: Duration = .seconds(SigningKeyRing.defaultActivationDelay)
    ) -> ServerConfiguration {
        ServerConfiguration(
            host: "127.0.0.1",
            port: 0,
            issuer: Self.issuer,
            signingKeyActivationDelay: activationDelay,
            usageFlushInterval: .seconds(3600),
            clientFailureLimit: clientFailureLimit,
            maxDelegationDepth: maxDelegationDepth
        )
    }

    func application(clientFailureLimit: Int = 10, activationDelay: Duration) async throws -> some ApplicationProtocol {
        try await server.application(configuration(clientFailureLimit: clientFailureLimit, activationDelay: activationDelay), logger: logger)
    }

    /// Runs `body` against the app, in process (`.router`) unless a real socket is asked for.
    func test<T>(
        _ setup: TestingSetup = .router,
        clientFailureLimit: Int = 10,
        activationDelay: Duration = .seconds(SigningKeyRing.defaultActivationDelay),
        _ body: @Sendable (TestAPI) async throws -> T
    ) async throws -> T {
        try await application(clientFailureLimit: clientFailureLimit, activationDelay: activationDelay).test(setup) { client in
            try await body(TestAPI(client: client, adminKey: adminKey))
        }
    }

    /// Runs `body` in process against the router alone (no background services), on `components`
    /// the test may look inside.
    func test<T>(components: ServerComponents, _ body: @Sendable (TestAPI, ServerComponents) async throws -> T) async throws -> T {
        try await Application(router: server.router(components), logger: logger).test(.router) { client in
            try await body(TestAPI(client: client, adminKey: adminKey), components)
        }
    }

    /// Runs `body` in process against a server whose clock is `clock`.
    func test<T>(clock: TestClock, maxDelegationDepth: Int = 3, _ body: @Sendable (TestAPI, ServerComponents) async throws -> T) async throws -> T {
        try await test(components: server.components(configuration(maxDelegationDepth: maxDelegationDepth), now: clock.now), body)
    }

    /// The server's active signing key, for forging tokens that are validly signed.
    func activeSigningKey() async throws -> SigningKeyMaterial {
        try await server.activeSigningKey()
    }
}

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let current: Mutex<Date>

    init(_ start: Date = Date()) {
        current = Mutex(Date(timeIntervalSince1970: start.timeIntervalSince1970.rounded(.down)))
    }

    var now: @Sendable () -> Date { { self.current.withLock { $0 } } }

    func advance(_ seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}

/// Request helpers over a Hummingbird test client.
struct TestAPI: Sendable {
    let client: any TestClientProtocol
    let adminKey: String

    @discardableResult
    func request(
        _ method: HTTPRequest.Method,
        _ uri: String,
        key: String? = nil,
        headers: HTTPFields = [:],
        json: String? = nil,
        form: String? = nil,
        body: String? = nil
    ) async throws -> TestResponse {
        var headers = headers
        if let key { headers[.apiKey] = key }
        var payload: ByteBuffer?
        if let json {
            headers[.contentType] = headers[.contentType] ?? "application/json"
            payload = ByteBuffer(string: json)
        } else if let form {
            headers[.contentType] = headers[.contentType] ?? "application/x-www-form-urlencoded"
            payload = ByteBuffer(string: form)
        } else if let body {
            payload = ByteBuffer(string: body)
        }
        return try await client.executeRequest(uri: uri, method: method, headers: headers, body: payload)
    }

    func admin(_ method: HTTPRequest.Method, _ uri: String, json: String? = nil) async throws -> TestResponse {
        try await request(method, uri, key: adminKey, json: json)
    }

    func createAgent(_ name: String = "research agent") async throws -> String {
        let response = try await admin(.post, "/admin/agents", json: #"{"name":"\#(name)"}"#)
        guard response.status == .created, let id = response.object["id"] as? String else {
            throw TestFailure("agent creation failed: \(response.status) \(String(buffer: response.body))")
        }
        return id
    }

    /// Creates a key and returns (id, plaintext).
    func createKey(agent: String, scopes: [String], extra: String = "") async throws -> (id: String, key: String) {
        let scopeList = scopes.map { "\"\($0)\"" }.joined(separator: ",")
        let response = try await admin(.post, "/admin/agents/\(agent)/keys", json: #"{"scopes":[\#(scopeList)]\#(extra)}"#)
        guard response.status == .created, let id = response.object["id"] as? String, let key = response.object["key"] as? String else {
            throw TestFailure("key creation failed: \(response.status) \(String(buffer: response.body))")
        }
        return (id, key)
    }

    /// Registers a client for `agent`; returns its id and secret (nil for private_key_jwt).
    func createClient(agent: String, json: String) async throws -> (id: String, secret: String?) {
        let response = try await admin(.post, "/admin/agents/\(agent)/clients", json: json)
        guard response.status == .created, let id = response.object["client_id"] as? String else {
            throw TestFailure("client creation failed: \(response.status) \(String(buffer: response.body))")
        }
        return (id, response.object["client_secret"] as? String)
    }

    /// `POST /oauth/token` with a form body and optional Basic credentials (form-urlencoded as RFC 6749 §2.3.1 says).
    func token(form: String, basic: (id: String, secret: String)? = nil, headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        if let basic {
            headers[.authorization] = "Basic " + Data("\(formEncoded(basic.id)):\(formEncoded(basic.secret))".utf8).base64EncodedString()
        }
        return try await request(.post, "/oauth/token", headers: headers, form: form)
    }

    /// A client-credentials token for a new client of `agent` with `scope`.
    func accessToken(agent: String, scope: String, audience: String? = nil) async throws -> String {
        let audienceJSON = audience.map { #","audience":["\#($0)"]"# } ?? ""
        let (id, secret) = try await createClient(agent: agent, json: #"{"scope":"\#(scope)"\#(audienceJSON)}"#)
        let response = try await token(form: "grant_type=client_credentials", basic: (id, secret ?? ""))
        guard response.status == .ok, let token = response.object["access_token"] as? String else {
            throw TestFailure("token request failed: \(response.status) \(String(buffer: response.body))")
        }
        return token
    }

    /// A token for the server's own endpoints (`/admin`, introspection): a client allowed the admin
    /// audience (the issuer), which it asks for by name.
    func serverToken(agent: String, scope: String) async throws -> String {
        let (id, secret) = try await createClient(agent: agent, json: #"{"scope":"\#(scope)","audience":["\#(TestEnvironment.issuer)"]}"#)
        let response = try await token(
            form: "grant_type=client_credentials&audience=\(formEncoded(TestEnvironment.issuer))",
            basic: (id, secret ?? "")
        )
        guard response.status == .ok, let token = response.object["access_token"] as? String else {
            throw TestFailure("token request failed: \(response.status) \(String(buffer: response.body))")
        }
        return token
    }

    func introspect(_ token: String, as caller: String) async throws -> TestResponse {
        try await request(.post, "/oauth/introspect", key: caller, form: "token=\(formEncoded(token))")
    }
}

func formEncoded(_ value: String) -> String {
    FormURLEncoding.encode(value)
}

extension TestResponse {
    /// The body as a JSON object (empty when it is not one).
    var object: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
    }

    var text: String { String(buffer: body) }

    var errorCode: String? { object["error"] as? String }
}
