import AsyncHTTPClient
import Instrumentation
import NIOHTTP1

extension HTTPClientRequest {
    /// Adds the current span's W3C `traceparent` (and whatever else the bootstrapped instrument
    /// propagates), so that the auth server's span of this call joins the caller's trace. No
    /// tracer bootstrapped, or no current span (background work): nothing is added.
    mutating func injectTraceContext() {
        guard let context = InstrumentationContext.current else { return }
        InstrumentationSystem.instrument.inject(context, into: &headers, using: HTTPHeadersInjector())
    }
}

struct HTTPHeadersInjector: Injector {
    func inject(_ value: String, forKey key: String, into headers: inout HTTPHeaders) {
        headers.replaceOrAdd(name: key, value: value)
    }
}
