import AgentAuthCore
import AgentAuthHTTP
import AgentAuthSQLite
import AgentAuthServer
import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

/// `agentauth serve`: runs the server, initialising an empty database first.
///
/// Every setting is resolved flag > `AGENTAUTH_…` environment > `--config` file > default
/// (`ServeCommand+settings.swift`), so its `@Option` has no default of its own: the help says it.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the AgentAuth server.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var masterKey: MasterKeyOptions

    @Option(name: .customLong("config"), help: "JSON config file (env AGENTAUTH_CONFIG); flags and AGENTAUTH_… variables take precedence.")
    var configFile: String?

    @Option(help: "Address to listen on (default 127.0.0.1); any other than loopback needs --issuer.")
    var host: String?

    @Option(help: "Port to listen on (default 8080).")
    var port: Int?

    @Option(help: "Issuer URL of the tokens this server signs (default http://HOST:PORT, or https://HOST:PORT with --tls-cert).")
    var issuer: String?

    @Option(help: "Audience every client may request by default: the audience of resource servers' tokens (default agentauth).")
    var defaultAudience: String?

    @Option(
        help:
            "Audience of tokens for this server's own endpoints (/admin, introspection, the revocation feed); default: the issuer URL. Clients get it only when they request it and are allowed it."
    )
    var adminAudience: String?

    @Option(help: "Algorithm of new signing keys: EdDSA (default) or ES256.")
    var signingAlgorithm: SigningAlgorithm?

    @Option(
        help:
            "Seconds a rotated-in signing key is published before it signs (the previous key signs meanwhile), so every resource server has fetched it first (default 5)."
    )
    var signingKeyActivationDelay: Int?

    @Option(help: "Most token-exchange hops from the original agent (actors in a delegated token; default 3).")
    var maxDelegationDepth: Int?

    @Option(help: "Log level: trace, debug, info (default), notice, warning, error, critical.")
    var logLevel: String?

    @Option(help: "Log line format on standard error: text (default), or json (one JSON object per line).")
    var logFormat: String?

    @Option(
        help:
            "Base URL of an OpenTelemetry collector's OTLP/HTTP endpoint, e.g. http://127.0.0.1:4318: spans are sent to URL/v1/traces and incoming W3C traceparent headers are continued. Without it, no spans are recorded."
    )
    var otlpEndpoint: String?

    @Option(
        help:
            "Connections open at once; more are closed as they are accepted (default: the file-descriptor limit, raised to its hard limit, less 128 kept for the server itself)."
    )
    var maxConnections: Int?

    @Option(help: "Seconds a client has to send a complete request head, from connecting or from a later request's first byte (default 20).")
    var requestHeadTimeout: Int?

    @Option(help: "Seconds a client has to send a request body, from the end of its head (default 30).")
    var requestBodyTimeout: Int?

    @Option(help: "Revocation-feed long-polls one credential may hold open at once; more get 429 (default 64).")
    var maxFeedPollsPerCredential: Int?

    @Option(help: "PEM certificate chain to serve HTTPS with (the server's certificate first); needs --tls-key.")
    var tlsCert: String?

    @Option(help: "PEM private key of the --tls-cert certificate.")
    var tlsKey: String?

    @Option(
        name: .customLong("trusted-proxy"),
        help:
            "A reverse proxy (IP address or CIDR range, IPv4 or IPv6; repeatable) whose Forwarded or X-Forwarded-For header gives the client's address. Without it those headers are ignored."
    )
    var trustedProxies: [String] = []

    @Option(
        help:
            "Seconds /readyz answers 503 after SIGTERM before the server stops accepting connections, for load balancers to notice (default 0, at most 15)."
    )
    var shutdownGrace: Int?

    @Option(
        help:
            "Days audit events are kept: older ones are removed at start and hourly, the chain anchored at the cut so `audit verify` still passes (default: kept forever; 1–36500). Export them first with `audit export`."
    )
    var auditRetention: Int?

    @Option(
        help:
            "Seconds key revocation, agent disabling and token revocation wait for every live verifier to acknowledge the change before they answer (default 2; 0–60, decimals allowed)."
    )
    var revocationConfirmTimeout: String?

    /// The `--config` file: the flag, else `AGENTAUTH_CONFIG`.
    var configPath: String? {
        configFile ?? ProcessInfo.processInfo.environment["AGENTAUTH_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
    }

    func run() async throws {
        let settings = try await Self.settings.resolve(self, configFile: configPath)
        let host = settings.string("host") ?? "127.0.0.1"
        let port = settings.int("port") ?? 8080
        let issuer = settings.string("issuer")
        let defaultAudience = settings.string("default-audience") ?? "agentauth"
        let adminAudience = settings.string("admin-audience")
        // The default issuer names the listening address: on 0.0.0.0 (or any public address)
        // that is a URL no client can use, and tokens would carry it for good.
        if issuer == nil, !Self.isLoopback(host) {
            throw CLIError(
                "\(settings.origin("host")) \(host) needs an issuer clients can reach (the default would be http://\(host):\(port)): pass --issuer https://your.public.name (or AGENTAUTH_ISSUER)"
            )
        }
        let tlsCertificate = settings.string("tls-cert")
        let tlsKey = settings.string("tls-key")
        guard (tlsCertificate == nil) == (tlsKey == nil) else { throw CLIError("--tls-cert and --tls-key must be given together") }
        // Checked before the store is opened, so a wrong file changes nothing.
        let tls = try tlsCertificate.map { certificate in try ServerTLS(certificateFile: certificate, keyFile: tlsKey ?? "") }
        let trustedProxies: TrustedProxies
        do {
            trustedProxies = try TrustedProxies(settings.list("trusted-proxy"))
        } catch {
            let origin = settings.origin("trusted-proxy")
            throw CLIError(origin.hasPrefix("--") ? error.description : "\(origin): \(error.reason)")
        }
        // Checked before anything is written: resource servers' tokens must not open the admin API.
        if (adminAudience ?? issuer ?? "\(tls == nil ? "http" : "https")://\(host):\(port)") == defaultAudience {
            throw CLIError("the admin audience (--admin-audience, default the issuer) must differ from --default-audience")
        }
        let connectionLimits: ConnectionLimits
        do {
            connectionLimits = try ConnectionLimits.raisingDescriptorLimit(
                maxConnections: settings.int("max-connections"),
                requestHeadTimeoutSeconds: settings.int("request-head-timeout") ?? 20,
                requestBodyTimeoutSeconds: settings.int("request-body-timeout") ?? 30
            )
        } catch {
            throw CLIError(error.description)
        }
        // Before the first Logger is made: loggers take the handler bootstrapped when they are created.
        let observability = try Observability.bootstrap(
            serviceName: "agentauth",
            logLevel: settings.string("log-level") ?? "info",
            logFormat: settings.string("log-format") ?? "text",
            otlpEndpoint: settings.string("otlp-endpoint")
        )
        let logger = observability.logger
        let algorithm = settings.string("signing-algorithm").flatMap(SigningAlgorithm.init(argument:)) ?? .eddsa
        var configuration = ServerConfiguration(
            host: host,
            port: port,
            issuer: issuer.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 },
            defaultAudience: defaultAudience,
            adminAudience: adminAudience,
            signingAlgorithm: algorithm,
            signingKeyActivationDelay: .seconds(settings.int("signing-key-activation-delay") ?? 5),
            maxDelegationDepth: settings.int("max-delegation-depth") ?? 3,
            connectionLimits: connectionLimits,
            maxFeedPollsPerCredential: settings.int("max-feed-polls-per-credential") ?? ServerConfiguration.defaultMaxFeedPollsPerCredential,
            auditRetentionDays: settings.int("audit-retention")
        )
        configuration.tls = tls
        configuration.trustedProxies = trustedProxies
        configuration.drain = ShutdownDrain(grace: .seconds(settings.int("shutdown-grace") ?? 0))
        if let timeout = settings.string("revocation-confirm-timeout").flatMap(Self.confirmTimeout) {
            configuration.revocationConfirmTimeout = timeout
        }
        try await PortCheck.check(host: host, port: port)
        var storeOptions = store
        storeOptions.database = settings.string("database")
        var keyOptions = masterKey
        keyOptions.masterKeyFile = settings.string("master-key-file")
        // One server per SQLite file: a second would fight the first over the write lock. Held
        // until the process exits; the admin commands do not take it.
        let lock = storeOptions.isPostgres ? nil : try ServerLock(database: storeOptions.location)
        let store = try await storeOptions.open(create: true)
        // One service group runs the store and then the application. A group stops its services
        // in reverse order, each after the one after it has finished: on SIGTERM the application
        // drains the HTTP server, then flushes its batch writers (audit events, key usage), and
        // only then does the store close its pool and its LISTEN connection. Before all of them,
        // the drain marks the process as not ready and waits --shutdown-grace.
        let application = ClosureService { [logger, storeOptions, keyOptions, configuration] in
            try await Self.serve(configuration, on: store, options: storeOptions, masterKey: keyOptions, algorithm: algorithm, logger: logger)
        }
        // The span exporter first, so it stops last and sends the final requests' spans.
        var group = ServiceGroupConfiguration(
            services: observability.services.map { .init(service: $0) } + [
                .init(service: store), .init(service: application, successTerminationBehavior: .gracefullyShutdownGroup),
                .init(service: configuration.drain),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        // Past the request deadlines, a part that still has not stopped is cancelled, so a stuck
        // request or database cannot keep the process from exiting.
        group.maximumGracefulShutdownDuration = Self.maximumShutdownDuration
        defer { withExtendedLifetime(lock) {} }
        try await ServiceGroup(configuration: group).run()
    }

    static let maximumShutdownDuration: Duration = .seconds(30)

    /// Initialises an empty store, checks the master key against it, and runs the application
    /// until the service group shuts down. "Listening" is printed once the socket is bound.
    private static func serve(
        _ configuration: ServerConfiguration,
        on store: any AgentAuthStore,
        options: StoreOptions,
        masterKey: MasterKeyOptions,
        algorithm: SigningAlgorithm,
        logger: Logger
    ) async throws {
        let isNew = try await !store.isInitialized()
        let key = try masterKey.load(for: options, create: isNew)
        try await masterKey.check(key, against: store, of: options)
        if isNew, let (agent, key) = try await AgentAdministration(store: store).initialize(masterKey: key, algorithm: algorithm) {
            Bootstrap.printBanner(agentID: agent.id, adminKey: key.plaintext, location: options.location)
        }
        let scheme = configuration.tls == nil ? "http" : "https"
        let listening = "AgentAuth listening on \(scheme)://\(configuration.host):\(configuration.port) (issuer \(configuration.effectiveIssuer))\n"
        let app = try await buildApplication(configuration: configuration, store: store, masterKey: key, logger: logger) {
            FileHandle.standardOutput.write(Data(listening.utf8))
        }
        do {
            try await app.run()
        } catch {
            throw PortCheck.message(for: error, host: configuration.host, port: configuration.port).map(CLIError.init) ?? error
        }
    }

    /// RFC 8414 §2: the issuer is a URL with the `https` scheme (`http` accepted here for local
    /// and test deployments), a host, and no query or fragment.
    static func isIssuerURL(_ value: String) -> Bool {
        guard !value.contains("?"), !value.contains("#"), let url = URL(string: value), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
        else { return false }
        return true
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}
