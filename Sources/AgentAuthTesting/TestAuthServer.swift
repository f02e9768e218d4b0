public import AgentAuthCore
public import AgentAuthHTTP
public import AgentAuthSQLite
public import AgentAuthServer
public import Foundation
public import Hummingbird
public import Logging
import NIOCore

/// The one real auth server of the tests: a fresh SQLite file in a temp directory, a master
/// key, the bootstrap admin agent and its key. From it a test builds the server in process
/// (`application`, `components` + `router`, for `app.test(.router)`) or runs it on a loopback
/// socket whose URL is its issuer (`serve`). Every place the tests build an auth server goes
/// through here, so a change in how the server is put together is mended in this one file.
public struct TestAuthServer: Sendable {
    public let directory: URL
    public let store: SQLiteStore
    public let masterKey: MasterKey
    public let adminKey: String
    public let adminAgentID: String

    /// Makes the store and the admin, runs `body`, and removes the directory.
    public static func with<T>(_ body: (TestAuthServer) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agentauth-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("agentauth.sqlite").path)
        let masterKey = MasterKey.generate().key
        guard let (agent, key) = try await AgentAdministration(store: store).initialize(masterKey: masterKey) else {
            throw TestFailure("a new store must initialise")
        }
        return try await body(
            TestAuthServer(directory: directory, store: store, masterKey: masterKey, adminKey: key.plaintext, adminAgentID: agent.id)
        )
    }

    /// A logger that drops everything but critical messages, for tests that don't read the logs.
    public static var quietLogger: Logger {
        var logger = Logger(label: "agentauth-test")
        logger.logLevel = .critical
        return logger
    }

    /// A new agent standing for a resource server, with an `introspect` API key: the credential
    /// a resource server calls introspection and the revocation feed with. Returns the key.
    public func introspectionKey(agentName: String = "example-api") async throws -> String {
        let resource = try await AgentAdministration(store: store).createAgent(name: agentName, by: .test)
        return try await APIKeyAdministration(store: store).createAPIKey(agentID: resource.id, APIKeyRequest(scopes: ["introspect"]), by: .test)
            .plaintext
    }

    // MARK: In process

    /// The whole server (router, middleware, background services) as `agentauth serve` builds it.
    public func application(
        _ configuration: ServerConfiguration,
        logger: Logger = Self.quietLogger,
        metrics: AgentAuthMetrics = AgentAuthMetrics()
    ) async throws -> some ApplicationProtocol {
        try await buildApplication(configuration: configuration, store: store, masterKey: masterKey, logger: logger, metrics: metrics)
    }

    /// The server's parts on a clock of the test's, not yet prepared (the test may look inside
    /// them: the audit writer, the feed's waiters, the failure counters).
    public func components(
        _ configuration: ServerConfiguration,
        now: @escaping @Sendable () -> Date = Date.init,
        metrics: AgentAuthMetrics = AgentAuthMetrics()
    ) -> ServerComponents {
        ServerComponents(configuration: configuration, store: store, masterKey: masterKey, now: now, metrics: metrics)
    }

    /// The router over prepared `components` (signing keys loaded), without background services.
    public func router(_ components: ServerComponents) async throws -> Router<AgentAuthRequestContext> {
        try await components.prepare()
        return buildRouter(components: components)
    }

    /// The server's active signing key, for forging tokens that are validly signed.
    public func activeSigningKey(now: @escaping @Sendable () -> Date = Date.init) async throws -> SigningKeyMaterial {
        try await SigningKeyRing(store: store, masterKey: masterKey, now: now).activeKey()
    }

    // MARK: On a socket

    /// Runs the server on a free loopback port with every background service, its issuer its
    /// own URL (`http://127.0.0.1:PORT`), until `body` returns; `configure` adjusts the rest of
    /// the configuration, `wrap` puts a responder of the test's in front of the router;
    /// `metrics` (e.g. `.isolated()`) keeps this server's counters apart from other servers'.
    public func serve<Responder: HTTPResponder, T>(
        now: @escaping @Sendable () -> Date = Date.init,
        logger: Logger = Self.quietLogger,
        metrics: AgentAuthMetrics = AgentAuthMetrics(),
        configure: (inout ServerConfiguration) -> Void = { _ in },
        wrap: @escaping (RouterResponder<AgentAuthRequestContext>) -> Responder,
        _ body: (Listening) async throws -> T
    ) async throws -> T where Responder.Context == AgentAuthRequestContext {
        var configuration = ServerConfiguration(host: "127.0.0.1")
        configure(&configuration)
        let base = configuration
        return try await LoopbackServer.run { port, onRunning in
            var configuration = base
            configuration.port = port
            configuration.issuer = configuration.issuer ?? "http://127.0.0.1:\(port)"
            let components = components(configuration, now: now, metrics: metrics)
            try await components.prepare()
            return Application(
                responder: wrap(buildRouter(components: components).buildResponder()),
                server: .agentAuthHTTP1(configuration.connectionLimits),
                configuration: .agentAuth(
                    address: .hostname("127.0.0.1", port: port),
                    serverName: configuration.serverName,
                    limits: configuration.connectionLimits,
                    logger: logger
                ),
                services: backgroundServices(components: components, logger: logger),
                onServerRunning: onRunning,
                logger: logger
            )
        } _: { port in
            try await body(Listening(port: port, url: "http://127.0.0.1:\(port)"))
        }
    }

    /// `serve` with the router answering every request itself.
    public func serve<T>(
        now: @escaping @Sendable () -> Date = Date.init,
        logger: Logger = Self.quietLogger,
        metrics: AgentAuthMetrics = AgentAuthMetrics(),
        configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: (Listening) async throws -> T
    ) async throws -> T {
        try await serve(now: now, logger: logger, metrics: metrics, configure: configure, wrap: { $0 }, body)
    }

    /// Where a served auth server listens.
    public struct Listening: Sendable {
        public let port: Int
        /// `http://127.0.0.1:PORT`: also the issuer, unless the configuration named another.
        public let url: String
    }
}
