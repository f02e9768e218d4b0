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
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the AgentAuth server.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var masterKey: MasterKeyOptions

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port: Int = 8080

    @Option(help: "Issuer URL of the tokens this server signs (default http://HOST:PORT).")
    var issuer: String?

    @Option(help: "Audience every client may request by default: the audience of resource servers' tokens.")
    var defaultAudience: String = "agentauth"

    @Option(
        help:
            "Audience of tokens for this server's own endpoints (/admin, introspection, the revocation feed); default: the issuer URL. Clients get it only when they request it and are allowed it."
    )
    var adminAudience: String?

    @Option(help: "Algorithm of new signing keys: EdDSA or ES256.")
    var signingAlgorithm: SigningAlgorithm = .eddsa

    @Option(
        help:
            "Seconds a rotated-in signing key is published before it signs (the previous key signs meanwhile), so every resource server has fetched it first."
    )
    var signingKeyActivationDelay = Int(SigningKeyRing.defaultActivationDelay)

    @Option(help: "Most token-exchange hops from the original agent (actors in a delegated token).")
    var maxDelegationDepth = 3

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(help: "Log line format on standard error: text, or json (one JSON object per line).")
    var logFormat: String = "text"

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

    @Option(help: "Seconds a client has to send a complete request head, from connecting or from a later request's first byte.")
    var requestHeadTimeout = 20

    @Option(help: "Seconds a client has to send a request body, from the end of its head.")
    var requestBodyTimeout = 30

    @Option(help: "Revocation-feed long-polls one credential may hold open at once; more get 429.")
    var maxFeedPollsPerCredential = ServerConfiguration.defaultMaxFeedPollsPerCredential

    func validate() throws {
        // Hummingbird would take any Int and bind its low 16 bits: 70000 would listen on 4464.
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535") }
        if let issuer, !Self.isIssuerURL(issuer) {
            throw ValidationError("--issuer must be an absolute http or https URL without query or fragment, e.g. https://auth.example.com")
        }
        guard (1...10).contains(maxDelegationDepth) else { throw ValidationError("--max-delegation-depth must be between 1 and 10") }
        guard (0...300).contains(signingKeyActivationDelay) else {
            throw ValidationError("--signing-key-activation-delay must be between 0 and 300 seconds")
        }
        // Checked before anything is written: resource servers' tokens must not open the admin API.
        if (adminAudience ?? issuer ?? "http://\(host):\(port)") == defaultAudience {
            throw ValidationError("the admin audience (--admin-audience, default the issuer) must differ from --default-audience")
        }
        guard (1...10_000).contains(maxFeedPollsPerCredential) else {
            throw ValidationError("--max-feed-polls-per-credential must be between 1 and 10000")
        }
        if let problem = Observability.problem(logLevel: logLevel, logFormat: logFormat, otlpEndpoint: otlpEndpoint) {
            throw ValidationError(problem)
        }
    }

    func run() async throws {
        let connectionLimits: ConnectionLimits
        do {
            connectionLimits = try ConnectionLimits.raisingDescriptorLimit(
                maxConnections: maxConnections,
                requestHeadTimeoutSeconds: requestHeadTimeout,
                requestBodyTimeoutSeconds: requestBodyTimeout
            )
        } catch {
            throw ValidationError(error.description)
        }
        // Before the first Logger is made: loggers take the handler bootstrapped when they are created.
        let observability = try Observability.bootstrap(
            serviceName: "agentauth",
            logLevel: logLevel,
            logFormat: logFormat,
            otlpEndpoint: otlpEndpoint
        )
        let logger = observability.logger
        let configuration = ServerConfiguration(
            host: host,
            port: port,
            issuer: issuer.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 },
            defaultAudience: defaultAudience,
            adminAudience: adminAudience,
            signingAlgorithm: signingAlgorithm,
            signingKeyActivationDelay: .seconds(signingKeyActivationDelay),
            maxDelegationDepth: maxDelegationDepth,
            connectionLimits: connectionLimits,
            maxFeedPollsPerCredential: maxFeedPollsPerCredential
        )
        let store = try await store.open(create: true)
        // One service group runs the store and then the application. A group stops its services
        // in reverse order, each after the one after it has finished: on SIGTERM the application
        // drains the HTTP server, then flushes its batch writers (audit events, key usage), and
        // only then does the store close its pool and its LISTEN connection.
        let application = ClosureService { [self, logger] in
            try await serve(configuration, on: store, logger: logger)
        }
        // The span exporter first, so it stops last and sends the final requests' spans.
        var group = ServiceGroupConfiguration(
            services: observability.services.map { .init(service: $0) } + [
                .init(service: store), .init(service: application, successTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        // Past the request deadlines, a part that still has not stopped is cancelled, so a stuck
        // request or database cannot keep the process from exiting.
        group.maximumGracefulShutdownDuration = Self.maximumShutdownDuration
        try await ServiceGroup(configuration: group).run()
    }

    static let maximumShutdownDuration: Duration = .seconds(30)

    /// Initialises an empty store, checks the master key against it, and runs the application
    /// until the service group shuts down.
    private func serve(_ configuration: ServerConfiguration, on store: any AgentAuthStore, logger: Logger) async throws {
        let isNew = try await !store.isInitialized()
        let key = try masterKey.load(for: self.store, create: isNew)
        try await masterKey.check(key, against: store, of: self.store)
        if isNew, let (agent, key) = try await AgentAdministration(store: store).initialize(masterKey: key, algorithm: signingAlgorithm) {
            Bootstrap.printBanner(agentID: agent.id, adminKey: key.plaintext, location: self.store.location)
        }
        let app = try await buildApplication(configuration: configuration, store: store, masterKey: key, logger: logger)
        FileHandle.standardOutput.write(Data("AgentAuth listening on http://\(host):\(port) (issuer \(configuration.effectiveIssuer))\n".utf8))
        try await app.run()
    }

    /// RFC 8414 §2: the issuer is a URL with the `https` scheme (`http` accepted here for local
    /// and test deployments), a host, and no query or fragment.
    static func isIssuerURL(_ value: String) -> Bool {
        guard !value.contains("?"), !value.contains("#"), let url = URL(string: value), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
        else { return false }
        return true
    }
}
