import HTTPTypes
public import Hummingbird
import Instrumentation
import Logging
import Tracing

/// The outermost middleware of the auth server and of resource servers: a tracing span per
/// request (continuing an incoming W3C `traceparent` when a tracer is bootstrapped), the
/// request counters and latency histogram, and one `info` line per request with its id, route
/// template, status, agent and latency.
///
/// The route is Hummingbird's matched template (`/admin/agents/{id}`), or
/// `AgentAuthMetrics.unmatchedRoute`: never the raw path, which holds ids and which any caller
/// chooses. Latency is measured until the handler has returned its response (the body is
/// written after).
///
/// Without a tracer (no `--otlp-endpoint`) the span would be a no-op, yet making it (the request
/// head copied without its query, the span's attributes, a task-local context, a closure on the
/// response body) cost about 6% of a resource server's CPU per request (docs/performance.md): then
/// the span is skipped.
public struct RequestObservationMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: AgentAuthMetrics
    let tracing = TracingMiddleware<Context>()

    public init(metrics: AgentAuthMetrics) {
        self.metrics = metrics
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if InstrumentationSystem.instrument is NoOpInstrument {
            return try await observe(request, context: context, next: next)
        }
        // The span is given the request without its query: a client that sends a secret there
        // (the token endpoint refuses it, but only after the span has begun) must not have it exported.
        var head = request.head
        head.path = request.uri.path
        let spanRequest = Request(head: head, body: request.body)
        return try await tracing.handle(spanRequest, context: context) { _, context in
            try await observe(request, context: context, next: next)
        }
    }

    func observe(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let observation = RequestObservation()
        do {
            let response = try await RequestObservation.$current.withValue(observation) {
                try await next(request, context)
            }
            finish(request, context: context, status: Int(response.status.code), started: started, observation: observation)
            return response
        } catch {
            let status = (error as? any HTTPResponseError).map { Int($0.status.code) } ?? 500
            finish(request, context: context, status: status, started: started, observation: observation)
            throw error
        }
    }

    func finish(_ request: Request, context: Context, status: Int, started: ContinuousClock.Instant, observation: RequestObservation) {
        let duration = ContinuousClock.now - started
        // Hummingbird names an unmatched request's endpoint "NotFound": templates alone start with "/".
        let route = context.endpointPath.flatMap { $0.hasPrefix("/") ? $0 : nil } ?? AgentAuthMetrics.unmatchedRoute
        metrics.recordRequest(route: route, status: status, duration: duration)
        // The metadata is an autoclosure: built only when the line is written at this level.
        context.logger.info(
            "request",
            metadata: Self.metadata(request, context: context, route: route, status: status, duration: duration, agentID: observation.agentID)
        )
    }

    static func metadata(_ request: Request, context: Context, route: String, status: Int, duration: Duration, agentID: String?) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "request_id": .string(context.id),
            "method": .string(request.method.rawValue),
            "route": .string(route),
            "status": .stringConvertible(status),
            "duration_ms": .string(milliseconds(duration)),
        ]
        if let agentID { metadata["agent_id"] = .string(agentID) }
        return metadata
    }

    /// `duration` in milliseconds with three decimals (`12.345`), rounded as `%.3f` would, without going through printf.
    static func milliseconds(_ duration: Duration) -> String {
        let microseconds = (duration.nanoseconds + 500) / 1000
        let fraction = String(microseconds % 1000)
        return String(microseconds / 1000) + "." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
