import HTTPTypes
public import Hummingbird

/// Sets `context.clientAddress` from the forwarding headers when the TCP peer is a trusted
/// reverse proxy (`TrustedProxies.clientAddress(peer:forwarded:xForwardedFor:)`). Without trusted
/// proxies it changes nothing: the headers are ignored and the client's address is the peer's.
public struct ClientAddressMiddleware: RouterMiddleware {
    public typealias Context = AgentAuthRequestContext

    let trustedProxies: TrustedProxies

    public init(trustedProxies: TrustedProxies) {
        self.trustedProxies = trustedProxies
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !trustedProxies.isEmpty else { return try await next(request, context) }
        var context = context
        context.clientAddress = trustedProxies.clientAddress(
            peer: context.remoteAddress,
            forwarded: request.headers[values: Self.forwarded],
            xForwardedFor: request.headers[values: Self.xForwardedFor]
        )
        return try await next(request, context)
    }

    static let forwarded = HTTPField.Name("Forwarded")!
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}
