import NIOCore
import NIOHTTP1

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
