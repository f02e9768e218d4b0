import Hummingbird
public import HummingbirdCore
public import Logging
public import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// Refuses credentials that arrive with surrounding whitespace (SECURITY-CASES 30).
///
/// RFC 9110 §5.5 lets a server drop a field value's leading and trailing whitespace, and
/// swift-http-types does exactly that when it turns NIO's headers into `HTTPFields`, so a key
/// sent as `"sk-agent-… "` would otherwise arrive looking exactly like the real key. An auth
/// server should not accept a credential that is not byte-for-byte the one it issued, so this
/// handler sits before that conversion and replaces such a credential with one that can never
/// verify; the request then gets the usual 401.
final class CredentialHeaderGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    static let guardedNames = ["x-api-key", "authorization"]
    /// What a padded credential is replaced with: fails every credential parser.
    static let poisoned = "!"

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        for name in Self.guardedNames {
            let values = head.headers[name]
            guard values.contains(where: Self.isPadded) else { continue }
            head.headers.replaceOrAdd(name: name, value: Self.poisoned)
        }
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    static func isPadded(_ value: String) -> Bool {
        guard let first = value.utf8.first, let last = value.utf8.last else { return false }
        return first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") || last == UInt8(ascii: " ") || last == UInt8(ascii: "\t")
    }
}

/// Hummingbird's HTTP/1 channel with `CredentialHeaderGuard` placed before the HTTP-types codec.
public struct GuardedHTTP1Channel: ServerChildChannel {
    public typealias Value = HTTP1Channel.Value
    let inner: HTTP1Channel

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let codec = try channel.pipeline.syncOperations.context(handlerType: HTTP1ToHTTPServerCodec.self)
            try channel.pipeline.syncOperations.addHandler(CredentialHeaderGuard(), position: .before(codec.handler))
            return value
        }
    }

    public func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 for AgentAuth servers: header limits above our own 431 limits, and credential guarding.
    public static func agentAuthHTTP1(idleTimeout: TimeAmount = .seconds(75)) -> HTTPServerBuilder {
        let configuration = HTTP1Channel.Configuration(
            idleTimeout: idleTimeout,
            httpDecoderConfiguration: .init(maxHeaderFieldSize: 64 * 1024, maxHeaderListSize: 64 * 1024, maxHeaderFieldCount: 100)
        )
        return HTTPServerBuilder { responder in
            GuardedHTTP1Channel(inner: HTTP1Channel(responder: responder, configuration: configuration))
        }
    }
}
