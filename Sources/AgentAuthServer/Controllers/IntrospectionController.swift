import AgentAuthCore
import AgentAuthHTTP
import Foundation
import Hummingbird
import Logging

/// `POST /oauth/introspect` (RFC 7662). The caller authenticates as an OAuth client (Basic,
/// form post or `private_key_jwt`), or with an API key or access token of scope `introspect` or
/// `admin`. Accepts API keys and access tokens. Anything that is not an active credential →
/// `{"active": false}` and nothing more (RFC 7662 §2.2), so no state of an inactive credential leaks.
struct IntrospectionController {
    let callers: CallerAuthorization
    let apiKeys: APIKeyVerifier
    /// Tokens of any audience, no leeway past `exp` (RFC 7662 §2.2: an expired token is not active).
    let tokens: TokenVerifier
    let agentStatus: AgentStatusCheck

    var endpoints: RouteCollection<AgentAuthRequestContext> {
        RouteCollection(context: AgentAuthRequestContext.self).postOnly("introspect", use: introspect)
    }

    func introspect(_ request: Request, context: AgentAuthRequestContext) async throws -> Response {
        let form = try await FormBody.readAboutToken(from: request, context: context)
        try await callers.authorizeVerifier(request, form: form, context: context)
        let token = try form.requiredToken()
        let result = try await evaluate(token)
        var response = try context.responseEncoder.encode(result, from: request, context: context)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    func evaluate(_ token: String) async throws -> IntrospectionResponse {
        if SecretFormat.apiKey.isWellFormed(token) {
            do {
                let (identity, key) = try await apiKeys.verifiedKey(token)
                return .active(identity: identity, key: key)
            } catch is CredentialRejection {
                return .inactive
            }
        }
        do {
            let claims = try await tokens.verify(token)
            try await agentStatus.check(claims)
            return .active(claims)
        } catch TokenRejection.keysUnavailable {
            throw OAuthError.temporarilyUnavailable("signing keys are unavailable; try again")
        } catch is TokenRejection {
            return .inactive
        }
    }
}

/// The RFC 7662 §2.2 answer.
struct IntrospectionResponse: Encodable {
    var active: Bool
    var scope: String?
    var clientID: String?
    var sub: String?
    var aud: [String]?
    var iss: String?
    var tokenType: String?
    var iat: Int?
    var nbf: Int?
    var exp: Int?
    var jti: String?
    var keyID: String?
    var act: ActorClaim?

    static let inactive = IntrospectionResponse(active: false)

    static func active(identity: AgentIdentity, key: APIKey) -> IntrospectionResponse {
        IntrospectionResponse(
            active: true,
            scope: identity.scopes.description,
            sub: identity.agentID,
            tokenType: identity.kind.rawValue,
            iat: Int(key.createdAt.timeIntervalSince1970),
            exp: key.expiresAt.map { Int($0.timeIntervalSince1970) },
            keyID: key.id
        )
    }

    static func active(_ claims: AccessTokenClaims) -> IntrospectionResponse {
        IntrospectionResponse(
            active: true,
            scope: claims.scope.description,
            clientID: claims.clientID,
            sub: claims.subject,
            aud: claims.audience,
            iss: claims.issuer,
            tokenType: "Bearer",
            iat: Int(claims.issuedAt.timeIntervalSince1970),
            nbf: claims.notBefore.map { Int($0.timeIntervalSince1970) },
            exp: Int(claims.expiresAt.timeIntervalSince1970),
            jti: claims.tokenID,
            act: ActorClaim(chain: claims.actors)
        )
    }

    enum CodingKeys: String, CodingKey {
        case active, scope, sub, aud, iss, iat, nbf, exp, jti, act
        case clientID = "client_id"
        case tokenType = "token_type"
        case keyID = "key_id"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(active, forKey: .active)
        try container.encodeIfPresent(scope, forKey: .scope)
        try container.encodeIfPresent(clientID, forKey: .clientID)
        try container.encodeIfPresent(sub, forKey: .sub)
        if let aud { aud.count == 1 ? try container.encode(aud[0], forKey: .aud) : try container.encode(aud, forKey: .aud) }
        try container.encodeIfPresent(iss, forKey: .iss)
        try container.encodeIfPresent(tokenType, forKey: .tokenType)
        try container.encodeIfPresent(iat, forKey: .iat)
        try container.encodeIfPresent(nbf, forKey: .nbf)
        try container.encodeIfPresent(exp, forKey: .exp)
        try container.encodeIfPresent(jti, forKey: .jti)
        try container.encodeIfPresent(keyID, forKey: .keyID)
        try container.encodeIfPresent(act, forKey: .act)
    }
}
