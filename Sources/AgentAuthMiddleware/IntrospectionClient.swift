public import AgentAuthCore
public import AsyncHTTPClient
public import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Calls the auth server's RFC 7662 introspection endpoint with the resource server's own
/// API key (scope `introspect`). It caches nothing itself; `ResourceAuthenticator` caches
/// results only while a `RevocationFeedFollower` is fresh to evict them.
public struct IntrospectionClient: Sendable {
    let endpoint: String
    let credential: String
    let httpClient: HTTPClient
    let timeout: TimeAmount

    /// - Parameters:
    ///   - authServer: the auth server's base URL, e.g. `http://127.0.0.1:8080`.
    ///   - introspectionKey: an API key with scope `introspect`.
    /// A client that fails fast when the auth server is down (no connection retries, 1 s connect
    /// timeout), so protected requests get their 503 at once instead of piling up.
    public static let defaultHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(1), read: .seconds(5))
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    public init(authServer: String, introspectionKey: String, httpClient: HTTPClient = defaultHTTPClient, timeout: Duration = .seconds(5)) {
        var base = authServer
        while base.hasSuffix("/") { base.removeLast() }
        self.endpoint = base + "/oauth/introspect"
        self.credential = introspectionKey
        self.httpClient = httpClient
        self.timeout = TimeAmount(timeout)
    }

    /// The identity for an active credential, or `nil` when the server says it is inactive.
    /// - Throws: `IntrospectionUnavailable` when the server can't answer (callers fail closed).
    public func introspect(_ token: String) async throws -> AgentIdentity? {
        try await introspectWithExpiry(token)?.identity
    }

    /// As `introspect`, with the credential's own expiry (`exp`), when it has one.
    public func introspectWithExpiry(_ token: String) async throws -> (identity: AgentIdentity, expiresAt: Date?)? {
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "X-API-Key", value: credential)
        request.body = .bytes(ByteBuffer(string: "token=" + FormURLEncoding.encode(token)))
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await httpClient.execute(request, timeout: timeout)
            body = try await response.body.collect(upTo: 64 * 1024)
        } catch {
            throw IntrospectionUnavailable(reason: "auth server unreachable")
        }
        guard response.status == .ok else {
            throw IntrospectionUnavailable(reason: "introspection answered \(response.status.code)")
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(body.readableBytesView)) else {
            throw IntrospectionUnavailable(reason: "introspection answer is not valid JSON")
        }
        guard answer.active else { return nil }
        guard let subject = answer.sub, let scope = answer.scope else {
            throw IntrospectionUnavailable(reason: "active introspection answer lacks sub or scope")
        }
        let scopes = (try? ScopeSet(parsing: scope)) ?? ScopeSet()
        let kind = AgentIdentity.CredentialKind(rawValue: answer.tokenType ?? "") ?? .apiKey
        let identity = AgentIdentity(agentID: subject, credentialID: answer.keyID ?? answer.jti ?? "", kind: kind, scopes: scopes)
        return (identity, answer.exp.map { Date(timeIntervalSince1970: TimeInterval($0)) })
    }

    struct Answer: Decodable {
        let active: Bool
        let scope: String?
        let sub: String?
        let tokenType: String?
        let keyID: String?
        let jti: String?
        let exp: Int64?

        enum CodingKeys: String, CodingKey {
            case active, scope, sub, jti, exp
            case tokenType = "token_type"
            case keyID = "key_id"
        }
    }
}

/// The auth server could not answer an introspection; the request is refused with 503.
public struct IntrospectionUnavailable: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}
