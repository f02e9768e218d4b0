public import Hummingbird
import NIOCore
import Prometheus

extension Router {
    /// Adds `GET /metrics`: the registry of `metrics` in Prometheus's text format, without
    /// authentication (it holds counts and timings only, under bounded labels). `beforeScrape`
    /// sets the gauges that are read rather than counted (queue depth, feed lag).
    public func addMetricsRoute(_ metrics: AgentAuthMetrics, beforeScrape: @escaping @Sendable () -> Void = {}) {
        get("metrics") { _, _ -> Response in
            beforeScrape()
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer()))
            )
        }
    }
}
