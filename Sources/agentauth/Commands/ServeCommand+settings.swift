import AgentAuthCore
import AgentAuthHTTP
import AgentAuthServer
import Foundation
import Logging

extension ServeCommand {
    /// Every setting of `serve`, in the order `config show` prints them. A new one: an optional
    /// `@Option` on `ServeCommand` and one line here (docs/configuration.md lists them).
    static var settings: [Setting<ServeCommand>] {
        [
            .string("database", \.store.database, default: "./agentauth.sqlite", display: redactingPassword),
            .string("master-key", nil, default: nil, secret: true, readsFile: false),
            .string("master-key-file", \.masterKey.masterKeyFile, default: nil),
            .string("host", \.host, default: "127.0.0.1"),
            .int("port", \.port, default: 8080, in: 1...65535),
            .string("issuer", \.issuer, default: nil) { value -> String? in isIssuerURL(value) ? nil : issuerProblem },
            .string("default-audience", \.defaultAudience, default: "agentauth"),
            .string("admin-audience", \.adminAudience, default: nil),
            .choice("signing-algorithm", \.signingAlgorithm, default: .eddsa),
            .int(
                "signing-key-activation-delay",
                \.signingKeyActivationDelay,
                default: Int(SigningKeyRing.defaultActivationDelay),
                in: 0...300,
                unit: " seconds"
            ),
            .int("max-delegation-depth", \.maxDelegationDepth, default: 3, in: 1...10),
            .string("log-level", \.logLevel, default: "info") { value -> String? in
                Logger.Level(rawValue: value) == nil ? "must be one of \(logLevels)" : nil
            },
            .string("log-format", \.logFormat, default: "text") { value -> String? in
                LogFormat(rawValue: value) == nil ? "must be text or json" : nil
            },
            .string("otlp-endpoint", \.otlpEndpoint, default: nil) { value -> String? in
                Observability.isOTLPEndpoint(value) ? nil : "must be an http or https URL, e.g. http://127.0.0.1:4318"
            },
            .int("max-connections", \.maxConnections, default: nil),
            .int("request-head-timeout", \.requestHeadTimeout, default: 20, in: 1...60, unit: " seconds"),
            .int("request-body-timeout", \.requestBodyTimeout, default: 30, in: 1...600, unit: " seconds"),
            .int(
                "max-feed-polls-per-credential",
                \.maxFeedPollsPerCredential,
                default: ServerConfiguration.defaultMaxFeedPollsPerCredential,
                in: 1...10_000
            ),
            .int("audit-retention", \.auditRetention, default: nil, in: 1...36_500, unit: " days"),
            .string("tls-cert", \.tlsCert, default: nil),
            .string("tls-key", \.tlsKey, default: nil),
            .list("trusted-proxy", \.trustedProxies),
            .int("shutdown-grace", \.shutdownGrace, default: 0, in: 0...15, unit: " seconds"),
            .string("revocation-confirm-timeout", \.revocationConfirmTimeout, default: "2") { value -> String? in
                confirmTimeout(value) == nil ? "must be a number of seconds between 0 and 60, e.g. 2 or 0.5" : nil
            },
        ]
    }

    /// A `--revocation-confirm-timeout` value: seconds, decimals allowed, 0–60.
    static func confirmTimeout(_ value: String) -> Duration? {
        guard let seconds = Double(value), seconds.isFinite, (0...60).contains(seconds) else { return nil }
        return .milliseconds(Int((seconds * 1000).rounded()))
    }

    static let issuerProblem = "must be an absolute http or https URL without query or fragment, e.g. https://auth.example.com"
    static let logLevels = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")

    /// A database URL as `config show` prints it: the password replaced, the rest kept.
    static func redactingPassword(_ location: String) -> String {
        guard var components = URLComponents(string: location), components.password != nil else { return location }
        components.password = "REDACTED"
        return components.string ?? "<redacted>"
    }
}
