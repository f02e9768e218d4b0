import CoreMetrics
import Foundation
public import Prometheus

/// The metrics of one server (docs/observability.md lists them): recorded through swift-metrics
/// into one Prometheus registry, which `GET /metrics` renders.
///
/// Each server owns its registry instead of going through the process-wide `MetricsSystem`,
/// which can be bootstrapped once per process only: tests run several servers in one process and
/// read each one's counters apart. The default is swift-prometheus's shared registry, the one an
/// executable also bootstraps `MetricsSystem` with, so the libraries' own metrics (Hummingbird,
/// PostgresNIO) appear at the same `/metrics`.
///
/// Label values are bounded by construction: route templates, status codes, grant types and
/// fixed reason names; never a raw path, a credential, a key id or an agent id.
public struct AgentAuthMetrics: Sendable {
    /// Where the metrics are kept; `GET /metrics` renders it.
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    let handles = MetricHandles()

    /// The label value of every request that matched no route: raw paths would let any caller
    /// grow the number of series without bound.
    public static let unmatchedRoute = "unmatched"

    /// - Parameter registry: where the metrics are kept; by default the process's shared one.
    public init(registry: PrometheusCollectorRegistry = PrometheusMetricsFactory.defaultRegistry) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        // Store calls take tens of microseconds to a few milliseconds: the default buckets start at 5 ms.
        factory.durationHistogramBuckets[Names.storeDuration] = [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2),
        ]
        self.factory = factory
    }

    /// A fresh registry of its own: for a server whose numbers must not mix with another's in the
    /// same process (tests).
    public static func isolated() -> AgentAuthMetrics { AgentAuthMetrics(registry: PrometheusCollectorRegistry()) }

    enum Names {
        static let httpRequests = "agentauth_http_requests_total"
        static let httpDuration = "agentauth_http_request_duration_seconds"
        static let tokensIssued = "agentauth_tokens_issued_total"
        static let authenticationFailures = "agentauth_authentication_failures_total"
        static let rateLimited = "agentauth_rate_limited_total"
        static let verifications = "agentauth_verifications_total"
        static let feedLag = "agentauth_revocation_feed_lag_seconds"
        static let feedFresh = "agentauth_revocation_feed_fresh"
        static let auditQueueDepth = "agentauth_audit_queue_depth"
        static let storeDuration = "agentauth_store_duration_seconds"
    }

    /// One answered request: its route template (or `unmatchedRoute`), status and latency.
    public func recordRequest(route: String, status: Int, duration: Duration) {
        let series = handles.request(route: route, status: status) {
            MetricHandles.RequestSeries(
                count: Counter(label: Names.httpRequests, dimensions: [("route", route), ("status", String(status))], factory: factory),
                duration: Timer(label: Names.httpDuration, dimensions: [("route", route)], factory: factory)
            )
        }
        series.count.increment()
        series.duration.recordNanoseconds(duration.nanoseconds)
    }

    /// An access token issued by a grant (`client_credentials`, `token_exchange`).
    public func recordTokenIssued(grant: String) {
        Counter(label: Names.tokensIssued, dimensions: [("grant", grant)], factory: factory).increment()
    }

    /// A refused credential; `reason` is one of a fixed set of names, never what was presented.
    public func recordAuthenticationFailure(reason: String) {
        Counter(label: Names.authenticationFailures, dimensions: [("reason", reason)], factory: factory).increment()
    }

    /// A request refused with 429 by a rate limit, a quota or the failed-authentication limit.
    public func recordRateLimited() {
        Counter(label: Names.rateLimited, factory: factory).increment()
    }

    /// A credential checked at a verifier: `method` `jwt` (local) or `introspection`, `result`
    /// `valid`, `invalid` or `unavailable`.
    public func recordVerification(method: String, result: String) {
        handles.verification(method: method, result: result) {
            Counter(label: Names.verifications, dimensions: [("method", method), ("result", result)], factory: factory)
        }
        .increment()
    }

    /// Seconds since the revocation feed last answered (since the server started, while it never has).
    public func recordFeedLag(seconds: Double) {
        Gauge(label: Names.feedLag, factory: factory).record(seconds)
    }

    /// Whether a verifier trusts what it cached (1): its feed answered a poll started within its
    /// bound. 0: cached API-key results are not used, and `/readyz` fails.
    public func recordFeedFresh(_ fresh: Bool) {
        Gauge(label: Names.feedFresh, factory: factory).record(fresh ? 1 : 0)
    }

    /// Audit events waiting for the next batch write.
    public func recordAuditQueueDepth(_ depth: Int) {
        Gauge(label: Names.auditQueueDepth, factory: factory).record(depth)
    }

    /// Times one store call, labelled with a fixed operation name.
    public func timingStore<T>(_ operation: String, _ body: () async throws -> T) async rethrows -> T {
        let started = ContinuousClock.now
        defer {
            Timer(label: Names.storeDuration, dimensions: [("operation", operation)], factory: factory)
                .recordNanoseconds((ContinuousClock.now - started).nanoseconds)
        }
        return try await body()
    }

    /// The registry in Prometheus's text format (version 0.0.4).
    public func prometheusText() -> String { registry.emitToString() }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
