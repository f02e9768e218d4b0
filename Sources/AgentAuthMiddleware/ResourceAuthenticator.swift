public import AgentAuthCore
public import AgentAuthHTTP
import Foundation
public import Hummingbird
public import HummingbirdAuth
import Logging

/// What a resource server adds in front of its routes: verifies `Authorization: Bearer` access
/// tokens locally (against the issuer's JWKS) and `X-API-Key` through the auth server's
/// introspection endpoint, and attaches the `AgentIdentity`; pair it with `RequireScope` per
/// route. Keys of the wrong shape or checksum are refused locally, without a call to the auth server.
public struct ResourceAuthenticator<Context: AuthRequestContext<AgentIdentity>>: AuthenticatorMiddleware {
    public typealias Identity = AgentIdentity
    let introspection: IntrospectionClient?
    let tokens: TokenVerifier?
    let feed: RevocationFeedFollower?
    let metrics: AgentAuthMetrics?

    /// - Parameters:
    ///   - introspection: for API keys; `nil` refuses API keys.
    ///   - tokens: for Bearer access tokens (a `TokenVerifier` over `RemoteJWKS`, with the feed's
    ///     `revocations`; the feed's `keySource` should be that `RemoteJWKS`, and both run as
    ///     services, so that keys leaving the JWKS are dropped); `nil` refuses them.
    ///   - feed: when given, positive API-key results are cached while the feed is fresh (it evicts them).
    ///   - metrics: where verifications are counted (`agentauth_verifications_total`); `nil`: nowhere.
    public init(
        introspection: IntrospectionClient?,
        tokens: TokenVerifier? = nil,
        feed: RevocationFeedFollower? = nil,
        metrics: AgentAuthMetrics? = nil,
        context: Context.Type = Context.self
    ) {
        self.introspection = introspection
        self.tokens = tokens
        self.feed = feed
        self.metrics = metrics
    }

    /// Verifies the request's credential and counts the verification by method (`jwt` for a
    /// Bearer token, `introspection` for an API key) and result (`valid`, `invalid`,
    /// `unavailable` when the auth server or its keys could not be reached).
    public func authenticate(request: Request, context: Context) async throws -> AgentIdentity? {
        let method = request.headers.apiKeyCredential == .absent ? "jwt" : "introspection"
        do {
            guard let identity = try await verify(request: request, context: context) else { return nil }
            metrics?.recordVerification(method: method, result: "valid")
            RequestObservation.noteAgent(identity.agentID)
            return identity
        } catch let error as OAuthError {
            metrics?.recordVerification(method: method, result: error.status == .serviceUnavailable ? "unavailable" : "invalid")
            throw error
        }
    }

    func verify(request: Request, context: Context) async throws -> AgentIdentity? {
        let apiKey = request.headers.apiKeyCredential
        // RFC 6750 §2: one request, one credential.
        if apiKey != .absent, request.headers[.authorization] != nil {
            throw OAuthError.invalidBearerRequest("send one credential: X-API-Key or Authorization, not both")
        }
        switch apiKey {
        case .absent:
            return try await authenticateBearer(request, context: context)
        case .ambiguous, .malformed:
            throw OAuthError.invalidToken()
        case .present(let key):
            guard let introspection, SecretFormat.apiKey.isWellFormed(key) else { throw OAuthError.invalidToken() }
            // A cached result is used only while the feed that would evict it is fresh; otherwise the
            // auth server is asked, and if it can't answer the request fails closed (503).
            let cache = feed.flatMap { $0.isFresh && $0.apiKeyCache.ttl > .zero ? $0.apiKeyCache : nil }
            if let cached = cache?.lookUp(key) { return cached }
            let generation = cache?.generation ?? 0
            let identity: AgentIdentity?
            do {
                let result = try await introspection.introspectWithExpiry(key)
                if let result, let cache {
                    cache.store(key, identity: result.identity, expiresIn: result.expiresAt?.timeIntervalSinceNow, generation: generation)
                }
                identity = result?.identity
            } catch let error as IntrospectionUnavailable {
                context.logger.error("introspection failed", metadata: ["reason": "\(error.reason)"])
                throw OAuthError.temporarilyUnavailable("the auth server cannot be reached; try again", retryAfter: 2)
            }
            guard let identity else { throw OAuthError.invalidToken() }
            return identity
        }
    }

    /// Bearer tokens are verified here, without a call to the auth server. An `Authorization`
    /// header this server can't verify is refused, never ignored.
    func authenticateBearer(_ request: Request, context: Context) async throws -> AgentIdentity? {
        switch request.headers.bearerCredential {
        case .absent:
            return nil
        case .ambiguous, .malformed:
            throw OAuthError.invalidToken()
        case .present(let token):
            guard let tokens else { throw OAuthError.invalidToken() }
            // Until the feed has answered once, or when it has been silent past the token staleness
            // bound, revocations are unknown: refuse rather than guess.
            if let feed, !feed.acceptsTokens {
                throw OAuthError.temporarilyUnavailable("the revocation feed is not synchronised; try again", retryAfter: 1)
            }
            do {
                let claims = try await tokens.verify(token)
                return AgentIdentity(claims)
            } catch TokenRejection.keysUnavailable {
                context.logger.error("the issuer's keys cannot be fetched")
                throw OAuthError.temporarilyUnavailable("the auth server's keys cannot be fetched; try again", retryAfter: 2)
            } catch {
                context.logger.debug("access token refused", metadata: ["reason": "\(error)"])
                throw OAuthError.invalidToken()
            }
        }
    }
}
