import Foundation
import HTTPTypes
public import Hummingbird
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
public struct RequestObservationMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: AgentAuthMetrics
    let tracing = TracingMiddleware<Context>()

    public init(metrics: AgentAuthMetrics) {
        self.metrics = metrics
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
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
        var metadata: Logger.Metadata = [
            "request_id": .string(context.id),
            "method": .string(request.method.rawValue),
            "route": .string(route),
            "status": .stringConvertible(status),
            "duration_ms": .string(String(format: "%.3f", Double(duration.nanoseconds) / 1_000_000)),
        ]
        if let agentID = observation.agentID { metadata["agent_id"] = .string(agentID) }
        context.logger.info("request", metadata: metadata)
    }
}
