import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// Counts the requests that reach the real token endpoint and, when told to, answers the next
/// ones itself with a failure (a 503 with `Retry-After`, say) before they get there.
final class TokenEndpointFaults: Sendable {
    struct Fault: Sendable {
        var status: HTTPResponse.Status
        var retryAfter: Int?
    }

    struct Arrival: Sendable {
        let at: ContinuousClock.Instant
        let grantType: String?
    }

    private struct State {
        var arrivals: [Arrival] = []
        var pending: [Fault] = []
    }

    private let state = Mutex(State())

    /// Every token request so far, answered by a fault or by the server.
    var arrivals: [Arrival] { state.withLock { $0.arrivals } }
    var count: Int { state.withLock { $0.arrivals.count } }

    func failNext(_ faults: Fault...) {
        state.withLock { $0.pending += faults }
    }

    /// Records the request; returns the fault to answer with, if one is due.
    func arrive(grantType: String?) -> Fault? {
        state.withLock { state in
            state.arrivals.append(Arrival(at: .now, grantType: grantType))
            return state.pending.isEmpty ? nil : state.pending.removeFirst()
        }
    }
}

/// The auth server's responder with `TokenEndpointFaults` in front of `POST /oauth/token`.
struct FaultInjectingResponder<Inner: HTTPResponder>: HTTPResponder {
    typealias Context = Inner.Context
    let inner: Inner
    let faults: TokenEndpointFaults

    func respond(to request: Request, context: Context) async throws -> Response {
        guard request.method == .post, request.uri.path == "/oauth/token" else {
            return try await inner.respond(to: request, context: context)
        }
        var request = request
        let body = try await request.collectBody(upTo: 64 * 1024)
        let form = String(buffer: body)
        let grantType = form.split(separator: "&").first { $0.hasPrefix("grant_type=") }.map { String($0.dropFirst("grant_type=".count)) }
        guard let fault = faults.arrive(grantType: grantType?.removingPercentEncoding) else {
            return try await inner.respond(to: request, context: context)
        }
        var headers: HTTPFields = [.contentType: "application/json"]
        if let seconds = fault.retryAfter { headers[.retryAfter] = String(seconds) }
        return Response(
            status: fault.status,
            headers: headers,
            body: .init(byteBuffer: ByteBuffer(string: #"{"error":"temporarily_unavailable"}"#))
        )
    }
}
