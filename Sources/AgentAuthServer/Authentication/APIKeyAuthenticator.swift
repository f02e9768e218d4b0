import AgentAuthCore
import AgentAuthHTTP
import Hummingbird
import HummingbirdAuth
import Logging

/// Authenticates `X-API-Key` against the store. No key: not this authenticator's request
/// (the scope policy then answers 401). A key that fails in any way: 401 `invalid_token`,
/// the same answer for every reason so that callers learn nothing about which keys exist.
struct APIKeyAuthenticator: AuthenticatorMiddleware {
    typealias Context = AgentAuthRequestContext
    let verifier: APIKeyVerifier

    func authenticate(request: Request, context: Context) async throws -> AgentIdentity? {
        // RFC 6750 §2: one request, one credential.
        if request.headers.apiKeyCredential != .absent, request.headers[.authorization] != nil {
            throw OAuthError.invalidRequest("send one credential: X-API-Key or Authorization, not both")
        }
        switch request.headers.apiKeyCredential {
        case .absent:
            // Bearer credentials are not accepted here: an API key sent as a Bearer token, or a
            // token this server cannot verify, is refused rather than silently ignored.
            if request.headers[.authorization] != nil { throw OAuthError.invalidToken() }
            return nil
        case .ambiguous, .malformed:
            throw OAuthError.invalidToken()
        case .present(let key):
            do {
                return try await verifier.verify(key)
            } catch let rejection as CredentialRejection {
                context.logger.debug("API key refused", metadata: ["reason": "\(rejection)"])
                throw OAuthError.invalidToken()
            }
        }
    }
}
