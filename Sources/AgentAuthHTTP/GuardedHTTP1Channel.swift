import Hummingbird
public import HummingbirdCore
import HummingbirdTLS
public import Logging
public import NIOCore
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1 channel behind a connection cap, with request deadlines and
/// `CredentialHeaderGuard` placed before the HTTP-types codec.
public struct GuardedHTTP1Channel: ServerChildChannel {
    public typealias Value = HTTP1Channel.Value
    let inner: HTTP1Channel
    let cap: ConnectionCap

    /// Runs for each accepted connection before its socket is registered with an event loop:
    /// one over the cap is closed here, before any handler exists for it.
    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard cap.admit(channel, logger: logger) else { return channel.eventLoop.makeFailedFuture(ConnectionCapReached()) }
        return inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let codec = try channel.pipeline.syncOperations.context(handlerType: HTTP1ToHTTPServerCodec.self)
            try channel.pipeline.syncOperations.addHandler(CredentialHeaderGuard(), position: .before(codec.handler))
            return value
        }.flatMapErrorThrowing { error in
            // NIO drops a connection whose setup failed without closing it: close it here so its descriptor is freed.
            channel.close(promise: nil)
            throw error
        }
    }

    public func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 for AgentAuth servers: a connection cap, request head and body deadlines, header
    /// limits above our own 431 limits, and credential guarding. Pair it with
    /// `ApplicationConfiguration.agentAuth(address:serverName:limits:logger:)` of the same
    /// limits, which bounds the connections accepted ahead of their close.
    ///
    /// With `tls`, HTTPS: TLS wraps the same guarded channel, so the cap, the deadlines (the
    /// handshake counts against the head deadline) and the guard hold as over plain HTTP. A
    /// plain-HTTP request to the port fails the handshake and its connection is closed.
    public static func agentAuthHTTP1(_ limits: ConnectionLimits = .init(), tls: ServerTLS? = nil) -> HTTPServerBuilder {
        let configuration = HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestDeadlineHandler(headTimeout: limits.requestHeadTimeout, bodyTimeout: limits.requestBodyTimeout)],
            idleTimeout: limits.idleTimeout,
            httpDecoderConfiguration: .init(maxHeaderFieldSize: 64 * 1024, maxHeaderListSize: 64 * 1024, maxHeaderFieldCount: 100)
        )
        let maximum = limits.effectiveMaxConnections
        return HTTPServerBuilder { responder in
            let guarded = GuardedHTTP1Channel(
                inner: HTTP1Channel(responder: responder, configuration: configuration),
                cap: ConnectionCap(maximum: maximum)
            )
            guard let tls else { return guarded }
            return try TLSChannel(guarded, tlsConfiguration: tls.configuration)
        }
    }
}
