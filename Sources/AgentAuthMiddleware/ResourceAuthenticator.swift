public import AgentAuthCore
import AgentAuthHTTP
public import Hummingbird
public import HummingbirdAuth
import Logging

/// What a resource server adds in front of its routes: authenticates `X-API-Key` through the
/// auth server's introspection endpoint and attaches the `AgentIdentity`; pair it with
/// `RequireScope` per route. Keys of the wrong shape or checksum are refused locally, without
/// a call to the auth server.
public struct ResourceAuthenticator<Context: AuthRequestContext<AgentIdentity>>: AuthenticatorMiddleware {
    public typealias Identity = AgentIdentity
    let introspection: IntrospectionClient

    public init(introspection: IntrospectionClient, context: Context.Type = Context.self) {
        self.introspection = introspection
    }

    public func authenticate(request: Request, context: Context) async throws -> AgentIdentity? {
        // RFC 6750 §2: one request, one credential.
        if request.headers.apiKeyCredential != .absent, request.headers[.authorization] != nil {
            throw OAuthError.invalidRequest("send one credential: X-API-Key or Authorization, not both")
        }
        switch request.headers.apiKeyCredential {
        case .absent:
            // An Authorization header this server can't verify is refused, never ignored.
            if request.headers[.authorization] != nil { throw OAuthError.invalidToken() }
            return nil
        case .ambiguous, .malformed:
            throw OAuthError.invalidToken()
        case .present(let key):
            guard SecretFormat.apiKey.isWellFormed(key) else { throw OAuthError.invalidToken() }
            let identity: AgentIdentity?
            do {
                identity = try await introspection.introspect(key)
            } catch let error as IntrospectionUnavailable {
                context.logger.error("introspection failed", metadata: ["reason": "\(error.reason)"])
                throw OAuthError.temporarilyUnavailable("the auth server cannot be reached; try again", retryAfter: 2)
            }
            guard let identity else { throw OAuthError.invalidToken() }
            return identity
        }
    }
}
