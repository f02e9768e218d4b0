import AgentAuthMiddleware
import ArgumentParser
import Foundation
import Hummingbird

/// The seed article's example agent API, protected by AgentAuth.
@main
struct ExampleAgentAPI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "example-agent-api",
        abstract: "The example agent API (/v1/conversations, /v1/billing/balance), protected by AgentAuth."
    )

    @Option(help: "Base URL of the AgentAuth server, e.g. http://127.0.0.1:8080.")
    var authServer: String

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port: Int = 8081

    @Option(help: "Audience that Bearer tokens must carry.")
    var audience: String = "agentauth"

    @Option(help: "Issuer that Bearer tokens must carry (default: the auth server URL).")
    var issuer: String?

    @Option(help: "API key with scope 'introspect' (or set AGENTAUTH_INTROSPECTION_KEY).")
    var introspectionKey: String?

    @Option(
        help:
            "How long a positive API-key result may be cached, in milliseconds (0: never). The revocation feed evicts a revoked key before the auth server answers its revocation, and no cached result is used while the feed is stale."
    )
    var apiKeyCacheMilliseconds = Int(ResourceServerConfiguration.defaultAPIKeyCacheTTL / .milliseconds(1))

    @Option(help: "The name this server goes by in the auth server's list of verifiers (default: the host name).")
    var verifierName: String?

    @Option(
        help:
            "How many verified access tokens to keep, so a token presented again skips decoding and its signature check until its exp (revocations are checked on every request; 0: no cache)."
    )
    var tokenCacheCapacity = 10_000

    @Option(help: "Seconds without an answer from the revocation feed before API-key caching stops and /readyz fails.")
    var stalenessSeconds = 15

    @Option(help: "Seconds without an answer from the revocation feed after which Bearer tokens are refused (503) too.")
    var tokenStalenessSeconds = 300

    @Option(
        help:
            "Connections open at once; more are closed as they are accepted (default: the file-descriptor limit, raised to its hard limit, less 128 kept for the process itself)."
    )
    var maxConnections: Int?

    @Option(help: "Seconds a client has to send a complete request head, from connecting or from a later request's first byte.")
    var requestHeadTimeout = 20

    @Option(help: "Seconds a client has to send a request body, from the end of its head.")
    var requestBodyTimeout = 30

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(help: "Log line format on standard error: text, or json (one JSON object per line).")
    var logFormat: String = "text"

    @Option(
        help:
            "Base URL of an OpenTelemetry collector's OTLP/HTTP endpoint, e.g. http://127.0.0.1:4318: spans are sent to URL/v1/traces, incoming W3C traceparent headers are continued and introspection calls carry them on. Without it, no spans are recorded."
    )
    var otlpEndpoint: String?

    @Option(help: "PEM certificate chain to serve HTTPS with; needs --tls-key.")
    var tlsCert: String?

    @Option(help: "PEM private key of the --tls-cert certificate.")
    var tlsKey: String?

    @Option(help: "PEM file of the CA (or self-signed certificate) of an https auth server, trusted instead of the system's roots.")
    var authServerCA: String?

    @Option(help: "Seconds /readyz answers 503 after SIGTERM before the server stops accepting connections.")
    var shutdownGrace = 0

    func validate() throws {
        if let problem = Observability.problem(logLevel: logLevel, logFormat: logFormat, otlpEndpoint: otlpEndpoint) {
            throw ValidationError(problem)
        }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key must be given together") }
        guard (0...15).contains(shutdownGrace) else { throw ValidationError("--shutdown-grace must be between 0 and 15 seconds") }
        if let verifierName, !ResourceServerConfiguration.isValidVerifierName(verifierName) {
            throw ValidationError("--verifier-name must be 1-128 printable ASCII characters")
        }
        if let authServerCA, !FileManager.default.isReadableFile(atPath: authServerCA) {
            throw ValidationError("cannot read the --auth-server-ca file \(authServerCA)")
        }
    }

    func run() async throws {
        // Eviction sorts the cache under its lock: keep it to a size where that stays short.
        guard (0...1_000_000).contains(tokenCacheCapacity) else { throw ValidationError("--token-cache-capacity must be between 0 and 1000000") }
        guard let key = introspectionKey ?? ProcessInfo.processInfo.environment["AGENTAUTH_INTROSPECTION_KEY"], !key.isEmpty else {
            throw ValidationError("an introspection key is required: --introspection-key or AGENTAUTH_INTROSPECTION_KEY")
        }
        // Once per process, before anything logs.
        let observability = try Observability.bootstrap(
            serviceName: "example-agent-api",
            logLevel: logLevel,
            logFormat: logFormat,
            otlpEndpoint: otlpEndpoint
        )
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
        let tls = try tlsCert.map { certificate in try ServerTLS(certificateFile: certificate, keyFile: tlsKey ?? "") }
        let configuration = ResourceServerConfiguration(
            authServer: authServer,
            issuer: issuer,
            audience: audience,
            introspectionKey: key,
            apiKeyCacheTTL: .milliseconds(apiKeyCacheMilliseconds),
            tokenCacheCapacity: tokenCacheCapacity,
            feedStalenessBound: .seconds(stalenessSeconds),
            tokenStalenessBound: .seconds(tokenStalenessSeconds),
            verifierName: verifierName,
            connectionLimits: connectionLimits,
            authServerCAFile: authServerCA,
            tls: tls
        )
        let agentAuth = ResourceServerMiddleware<AgentAuthRequestContext>(configuration: configuration)
        // On SIGTERM /readyz fails first, for --shutdown-grace; then the server drains its requests.
        let drain = ShutdownDrain(grace: .seconds(shutdownGrace))
        let app = Application(
            router: ExampleRoutes.router(agentAuth: agentAuth, drain: drain),
            server: configuration.httpServer,
            configuration: configuration.applicationConfiguration(address: .hostname(host, port: port), serverName: "example-agent-api"),
            // Follows the revocation feed and refreshes the issuer's keys beside the HTTP server;
            // sends spans when there is a collector.
            services: [agentAuth] + observability.services,
            logger: observability.logger
        )
        try await drain.run(app, logger: app.logger)
    }
}
