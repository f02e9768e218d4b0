import Instrumentation
public import Logging
import Metrics
import OTel
import Prometheus
public import ServiceLifecycle

/// How log lines are written: `text` (`TextLogHandler`: the lines of swift-log's
/// `StreamLogHandler`) or `json` (one object per line, `JSONLogHandler`).
public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json
}

/// The process-wide observability set-up of an executable (`agentauth serve`,
/// `example-agent-api`): swift-log, swift-metrics and swift-distributed-tracing can each be
/// bootstrapped once per process, so only executables call `bootstrap`, once, at start.
/// Libraries and tests never do: servers are given their `AgentAuthMetrics` and `Logger` instead.
public struct Observability: Sendable {
    /// A logger at the chosen level, for the application (Hummingbird's would take its level from
    /// the `LOG_LEVEL` environment variable instead).
    public let logger: Logger
    /// The span exporter, to run beside the server (it sends what is left on shutdown): none
    /// without an OTLP endpoint.
    public let services: [any Service]

    /// What is wrong with these command-line values, in one line; `nil`: nothing.
    public static func problem(logLevel: String, logFormat: String, otlpEndpoint: String?) -> String? {
        if Logger.Level(rawValue: logLevel) == nil {
            return "--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))"
        }
        if LogFormat(rawValue: logFormat) == nil { return "--log-format must be text or json" }
        if let otlpEndpoint, !isOTLPEndpoint(otlpEndpoint) {
            return "--otlp-endpoint must be an http or https URL, e.g. http://127.0.0.1:4318"
        }
        return nil
    }

    /// Bootstraps logging (level and format, on standard error), metrics (swift-prometheus's
    /// shared registry, the default of `AgentAuthMetrics`) and, when `otlpEndpoint` is given,
    /// tracing exported over OTLP/HTTP (protobuf) to `<otlpEndpoint>/v1/traces`, with W3C
    /// `traceparent` propagation and the current `trace_id` and `span_id` on every log line.
    /// Without an endpoint no tracer is bootstrapped: spans are no-ops and incoming
    /// `traceparent` headers are ignored. Values are checked with `problem` first (a wrong
    /// one falls back to info, text).
    public static func bootstrap(serviceName: String, logLevel: String, logFormat: String, otlpEndpoint: String?) throws -> Observability {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let format = LogFormat(rawValue: logFormat) ?? .text
        let metadataProvider = otlpEndpoint == nil ? nil : OTel.makeLoggingMetadataProvider()
        LoggingSystem.bootstrap(
            { label, provider in
                var handler: any LogHandler =
                    switch format {
                    case .text: TextLogHandler.standardError(label: label, metadataProvider: provider)
                    case .json: JSONLogHandler.standardError(label: label, metadataProvider: provider)
                    }
                handler.logLevel = level
                return handler
            },
            metadataProvider: metadataProvider
        )
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: PrometheusMetricsFactory.defaultRegistry))
        var logger = Logger(label: serviceName)
        logger.logLevel = level
        guard let otlpEndpoint else { return Observability(logger: logger, services: []) }
        var configuration = OTel.Configuration.default
        configuration.serviceName = serviceName
        // The exporter's own warnings (a collector that can't be reached) go to the same log, in its format.
        configuration.diagnosticLogger = .custom(logger)
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.exporter = .otlp
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        let base = otlpEndpoint.hasSuffix("/") ? String(otlpEndpoint.dropLast()) : otlpEndpoint
        configuration.traces.otlpExporter.endpoint = base + "/v1/traces"
        // Spans reach the collector within a second or two rather than the default five.
        configuration.traces.batchSpanProcessor.scheduleDelay = .seconds(1)
        let tracing = try OTel.makeTracingBackend(configuration: configuration)
        InstrumentationSystem.bootstrap(tracing.factory)
        return Observability(logger: logger, services: [tracing.service])
    }

    public static func isOTLPEndpoint(_ value: String) -> Bool {
        guard let colon = value.firstIndex(of: ":") else { return false }
        let scheme = value[..<colon].lowercased()
        return (scheme == "http" || scheme == "https") && value[colon...].hasPrefix("://") && value.count > scheme.count + 3
    }
}
