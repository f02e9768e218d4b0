import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// Counts the requests that reach the real token endpoint and, when told to, answers the next
/// ones with a failure: instead of the server, or after it (the server did the work, the answer
/// is lost), or with a head and a body that never ends.
final class TokenEndpointFaults: Sendable {
    enum Fault: Sendable {
        /// Answered here; the server never sees the request.
        case answer(HTTPResponse.Status, retryAfter: String? = nil, body: String = #"{"error":"temporarily_unavailable"}"#)
        /// The server handles the request (and records what it records); its answer is replaced.
        case afterServer(HTTPResponse.Status)
        /// 200 and the head at once, then a body that never finishes.
        case stall
        /// A redirect to `location`.
        case redirect(to: String)

        static func unavailable(retryAfter: Int? = nil) -> Fault {
            .answer(.serviceUnavailable, retryAfter: retryAfter.map(String.init))
        }
    }

    struct Arrival: Sendable {
        let at: ContinuousClock.Instant
        let grantType: String?
        let form: String
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
    func arrive(form: String) -> Fault? {
        let grantType = form.split(separator: "&").first { $0.hasPrefix("grant_type=") }
            .flatMap { $0.dropFirst("grant_type=".count).removingPercentEncoding }
        return state.withLock { state in
            state.arrivals.append(Arrival(at: .now, grantType: grantType, form: form))
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
        guard let fault = faults.arrive(form: String(buffer: body)) else {
            return try await inner.respond(to: request, context: context)
        }
        switch fault {
        case .answer(let status, let retryAfter, let text):
            var headers: HTTPFields = [.contentType: "application/json"]
            if let retryAfter { headers[.retryAfter] = retryAfter }
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
        case .afterServer(let status):
            _ = try await inner.respond(to: request, context: context)
            return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        case .stall:
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: #"{"access_token":"#))
                    try await Task.sleep(for: .seconds(60))
                    try await writer.finish(nil)
                }
            )
        case .redirect(let location):
            return Response(status: .temporaryRedirect, headers: [.location: location])
        }
    }
}
