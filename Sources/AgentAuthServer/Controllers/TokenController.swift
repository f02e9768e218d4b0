import AgentAuthCore
import AgentAuthHTTP
import Foundation
import Hummingbird
import Logging

/// `POST /oauth/token` (RFC 6749 §3.2, §4.4, §5): form body only, client authentication by
/// Basic, form post or `private_key_jwt`, answers with `Cache-Control: no-store`.
///
/// A request goes one way: this route → the client authenticator (which reads the client and its
/// agent in one store query) → the grant (scope and audience; for an exchange, the subject and
/// actor tokens, verified with every agent of their chain) → the issuer (signs) → the answer.
/// Nothing is read back after signing: see `token(_:context:)` for why the agent read once is enough.
struct TokenController {
    let clientGate: ClientAuthenticationGate
    let clientCredentials: ClientCredentialsGrant
    let tokenExchange: TokenExchangeGrant
    /// Subject and actor tokens of an exchange: any audience, no leeway past `exp`.
    let exchangeTokens: TokenVerifier
    let agentStatus: AgentStatusCheck
    /// The client's and its agent's rate limits and quotas, in this process.
    let limiter: RequestLimiter
    let audit: AuditLog
    let metrics: AgentAuthMetrics
    let now: @Sendable () -> Date

    var endpoints: RouteCollection<AgentAuthRequestContext> {
        RouteCollection(context: AgentAuthRequestContext.self).postOnly("token", use: token)
    }

    func token(_ request: Request, context: AgentAuthRequestContext) async throws -> Response {
        // RFC 6749 §2.3.1: credentials MUST NOT be in the request URI; no parameter belongs there.
        guard request.uri.query?.isEmpty ?? true else {
            throw OAuthError.invalidRequest("parameters belong in the form body, not the query string")
        }
        let form = try await FormBody.read(from: request, context: context)
        guard let grantType = form["grant_type"], !grantType.isEmpty else { throw OAuthProtocolError.invalidRequest("grant_type is required") }
        guard let grant = GrantType(rawValue: grantType), Self.supportedGrants.contains(grant) else {
            throw OAuthProtocolError(
                .unsupportedGrantType,
                "supported grant types: \(Self.supportedGrants.map(\.rawValue).sorted().joined(separator: ", "))"
            )
        }
        guard let credentials = try ClientCredentialsExtraction.credentials(from: request, form: form) else {
            throw OAuthProtocolError.invalidClient
        }
        // The token is dated from before the agent is read (here, and for an exchange each agent
        // of the chain, in `verifiedExchangeToken`), so no second read is needed after signing:
        // an agent disabled after those reads has a disable time at or after this `iat`, and
        // every verifier refuses the token by the disable watermark (DESIGN.md "Access tokens");
        // one disabled before them is refused by the reads themselves.
        let issuedAt = now()
        let client = try await clientGate.authenticate(credentials, context: context).client
        // Limited per client (and its agent) once the client is known, before any grant work.
        let limit = limiter.admit(LimitSubject(agentID: client.agentID, credential: .client(client.clientID)))
        guard limit.allowed else {
            audit.recordFailure(
                type: .tokenRefused,
                agentID: client.agentID,
                credentialID: client.clientID,
                clientAddress: context.clientAddress,
                reason: OAuthErrorCode.rateLimited.rawValue
            )
            metrics.recordRateLimited()
            throw limit.refusal
        }
        let audiences = form.values(of: "audience") + form.values(of: "resource")
        try Self.checkResourceURIs(form.values(of: "resource"))
        let issued: TokenIssuer.IssuedToken
        do {
            switch grant {
            case .clientCredentials:
                issued = try await clientCredentials.issue(
                    client: client,
                    requestedScope: form["scope"],
                    requestedAudiences: audiences,
                    issuedAt: issuedAt
                )
            case .tokenExchange:
                issued = try await exchange(form: form, client: client, audiences: audiences, issuedAt: issuedAt)
            }
        } catch let refusal as OAuthProtocolError {
            audit.recordFailure(
                type: .tokenRefused,
                agentID: client.agentID,
                credentialID: client.clientID,
                clientAddress: context.clientAddress,
                reason: refusal.code.rawValue
            )
            throw refusal
        }
        metrics.recordTokenIssued(grant: grant == .tokenExchange ? "token_exchange" : "client_credentials")
        let claims = issued.claims
        var details = ["jti": claims.tokenID, "scope": claims.scope.description, "aud": claims.audience.joined(separator: " ")]
        if !claims.actors.isEmpty {
            details["subject"] = claims.subject
            details["actors"] = claims.actors.joined(separator: " ")
            details["ancestors"] = claims.ancestors.joined(separator: " ")
        }
        audit.record(
            AuditEvent(
                time: now(),
                type: claims.actors.isEmpty ? .tokenIssued : .tokenExchanged,
                agentID: client.agentID,
                credentialID: client.clientID,
                clientAddress: context.clientAddress,
                requestID: context.id,
                details: details
            )
        )
        let body = TokenResponse(
            accessToken: issued.token,
            tokenType: "Bearer",
            expiresIn: Int(issued.claims.expiresAt.timeIntervalSince(issued.claims.issuedAt)),
            scope: issued.claims.scope.description,
            issuedTokenType: grant == .tokenExchange ? TokenExchangeGrant.accessTokenType : nil
        )
        var response = try context.responseEncoder.encode(body, from: request, context: context)
        response.headers[.cacheControl] = "no-store"
        response.headers[.pragma] = "no-cache"
        limit.addHeaders(to: &response.headers)
        return response
    }

    /// The grants this server implements; advertised in the metadata too.
    static let supportedGrants: Set<GrantType> = [.clientCredentials, .tokenExchange]

    /// RFC 8693 §2.1: the subject (and optional actor) token are this server's access tokens,
    /// verified in full (signature, expiry, revocation, every agent of the chain active); any
    /// problem with them is `invalid_request` (§2.2.2). A client-supplied `act` parameter means
    /// nothing and is ignored: the actor is always the calling client's agent.
    func exchange(form: FormBody, client: OAuthClient, audiences: [String], issuedAt: Date) async throws -> TokenIssuer.IssuedToken {
        guard client.grantTypes.contains(.tokenExchange) else {
            throw OAuthProtocolError(.unauthorizedClient, "this client may not use the token-exchange grant")
        }
        guard let subjectToken = form["subject_token"], !subjectToken.isEmpty else {
            throw OAuthProtocolError.invalidRequest("subject_token is required")
        }
        guard let subjectType = form["subject_token_type"] else { throw OAuthProtocolError.invalidRequest("subject_token_type is required") }
        guard subjectType == TokenExchangeGrant.accessTokenType else {
            throw OAuthProtocolError.invalidRequest("unsupported subject_token_type; use \(TokenExchangeGrant.accessTokenType)")
        }
        if let requested = form["requested_token_type"], requested != TokenExchangeGrant.accessTokenType {
            throw OAuthProtocolError.invalidRequest("unsupported requested_token_type; only access tokens are issued")
        }
        let subject = try await verifiedExchangeToken(subjectToken, role: "subject_token")
        var actor: AccessTokenClaims?
        if let actorToken = form["actor_token"] {
            guard form["actor_token_type"] == TokenExchangeGrant.accessTokenType else {
                throw OAuthProtocolError.invalidRequest("actor_token_type must be \(TokenExchangeGrant.accessTokenType)")
            }
            actor = try await verifiedExchangeToken(actorToken, role: "actor_token")
            guard actor?.subject == client.agentID else {
                throw OAuthProtocolError.invalidRequest("the actor_token must belong to the calling client's agent")
            }
        } else if form["actor_token_type"] != nil {
            throw OAuthProtocolError.invalidRequest("actor_token_type without actor_token")
        }
        return try await tokenExchange.issue(
            client: client,
            subject: subject,
            actor: actor,
            requestedScope: form["scope"],
            requestedAudiences: audiences,
            issuedAt: issuedAt
        )
    }

    func verifiedExchangeToken(_ token: String, role: String) async throws -> AccessTokenClaims {
        do {
            let claims = try await exchangeTokens.verify(token)
            try await agentStatus.check(claims)
            return claims
        } catch TokenRejection.keysUnavailable {
            throw OAuthError.temporarilyUnavailable("signing keys are unavailable; try again")
        } catch is TokenRejection {
            throw OAuthProtocolError.invalidRequest("the \(role) is invalid, expired or revoked")
        }
    }

    /// RFC 8707 §2: a resource is an absolute URI without a fragment.
    static func checkResourceURIs(_ values: [String]) throws {
        for value in values {
            guard let url = URL(string: value), url.scheme != nil, url.fragment == nil, !value.contains("#") else {
                throw OAuthProtocolError(.invalidTarget, "resource must be an absolute URI without a fragment")
            }
        }
    }
}

/// RFC 6749 §5.1.
struct TokenResponse: Encodable {
    let accessToken: String
    let tokenType: String
    let expiresIn: Int
    let scope: String
    /// RFC 8693 §2.2.1, token exchange only.
    let issuedTokenType: String?

    enum CodingKeys: String, CodingKey {
        case issuedTokenType = "issued_token_type"
        case accessToken = "access_token"
        case tokenType = "token_type"
        case expiresIn = "expires_in"
        case scope
    }
}
