import AgentAuthCore
import AgentAuthHTTP
import Hummingbird
import HummingbirdAuth
import Logging

/// Authenticates the caller of the server's own endpoints by `X-API-Key` (against the store) or
/// `Authorization: Bearer` (an access token this server issued, for its default audience).
/// No credentials: not this authenticator's request (the scope policy then answers 401). A
/// credential that fails in any way: 401 `invalid_token`, the same answer for every reason.
struct CredentialAuthenticator: AuthenticatorMiddleware {
    typealias Context = AgentAuthRequestContext
    let apiKeys: APIKeyVerifier
    /// Tokens for the server's own endpoints: the admin audience only.
    let tokens: TokenVerifier
    let agentStatus: AgentStatusCheck
    let audit: AuditLog
    let metrics: AgentAuthMetrics

    func authenticate(request: Request, context: Context) async throws -> AgentIdentity? {
        do {
            let identity = try await verify(request: request, context: context)
            if let identity { RequestObservation.noteAgent(identity.agentID) }
            return identity
        } catch let error as OAuthError where error.status == .unauthorized {
            metrics.recordAuthenticationFailure(reason: request.headers[.authorization] == nil ? "invalid_api_key" : "invalid_access_token")
            throw error
        }
    }

    func verify(request: Request, context: Context) async throws -> AgentIdentity? {
        let apiKey = request.headers.apiKeyCredential
        let hasAuthorization = request.headers[.authorization] != nil
        // RFC 6750 §2: one request, one credential.
        if apiKey != .absent, hasAuthorization {
            throw OAuthError.invalidBearerRequest("send one credential: X-API-Key or Authorization, not both")
        }
        do {
            switch apiKey {
            case .present(let key):
                do {
                    return try await apiKeys.verify(key)
                } catch let rejection as CredentialRejection where rejection != .malformed && rejection != .unknown {
                    // A known key refused (revoked, expired, disabled agent): audit it under its own ids.
                    let found = try? await apiKeys.lookUp(key)
                    audit.recordFailure(
                        type: .apiKeyFailure,
                        agentID: found?.agent.id,
                        credentialID: found?.key.id,
                        clientAddress: context.clientAddress,
                        reason: rejection.description
                    )
                    throw OAuthError.invalidToken()
                }
            case .ambiguous, .malformed:
                throw OAuthError.invalidToken()
            case .absent:
                break
            }
            switch request.headers.bearerCredential {
            case .absent:
                return nil
            case .present(let token):
                let claims = try await tokens.verify(token)
                try await agentStatus.check(claims)
                return AgentIdentity(claims)
            case .ambiguous, .malformed:
                throw OAuthError.invalidToken()
            }
        } catch let rejection as CredentialRejection {
            context.logger.debug("API key refused", metadata: ["reason": "\(rejection)"])
            audit.recordFailure(
                type: .apiKeyFailure,
                credentialID: nil,
                clientAddress: context.clientAddress,
                reason: rejection.description
            )
            throw OAuthError.invalidToken()
        } catch TokenRejection.keysUnavailable {
            throw OAuthError.temporarilyUnavailable("signing keys are unavailable; try again")
        } catch let rejection as TokenRejection {
            context.logger.debug("access token refused", metadata: ["reason": "\(rejection)"])
            audit.recordFailure(
                type: .tokenFailure,
                credentialID: nil,
                clientAddress: context.clientAddress,
                reason: rejection.description
            )
            throw OAuthError.invalidToken()
        }
    }
}
