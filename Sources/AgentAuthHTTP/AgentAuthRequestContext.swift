public import AgentAuthCore
public import Foundation
public import Hummingbird
public import HummingbirdAuth
import NIOCore

/// The request context of the auth server and of protected resource servers: the verified
/// identity, if any, and small request-size limits.
public struct AgentAuthRequestContext: AuthRequestContext, RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: AgentIdentity?
    /// The TCP peer's IP address; nil when not on a socket (in-process tests).
    public let remoteAddress: String?
    /// The client's IP address, for per-address limits and the audit log: the peer's, or behind
    /// a trusted reverse proxy the one it forwarded (`ClientAddressMiddleware`).
    public internal(set) var clientAddress: String?

    /// The largest request body read (64 KiB): AgentAuth's requests are small forms and JSON.
    public static let maxBodySize = 64 * 1024

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
        self.clientAddress = remoteAddress
    }

    public var maxUploadSize: Int { Self.maxBodySize }

    public var responseEncoder: JSONEncoder { Self.encoder }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
