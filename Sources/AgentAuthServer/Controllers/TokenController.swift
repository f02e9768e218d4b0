import AgentAuthCore
import AgentAuthHTTP
import Foundation
import Hummingbird
import Logging

/// `POST /oauth/token` (RFC 6749 §3.2, §4.4, §5): form body only, client authentication by
/// Basic, form post or `private_key_jwt`, answers with `Cache-Control: no-store`.
struct TokenController {
    let components: ServerComponents

    var endpoints: RouteCollection<AgentAuthRequestContext> {
        let routes = RouteCollection(context: AgentAuthRequestContext.self)
        routes.post("token", use: token)
        routes.refuseMethods(except: .post, on: "token")
        return routes
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
        let (client, _) = try await ClientAuthenticationGate(components: components).authenticate(credentials, context: context)
        let audiences = form.values(of: "audience") + form.values(of: "resource")
        try Self.checkResourceURIs(form.values(of: "resource"))
        let issued: TokenIssuer.IssuedToken
        do {
            issued = try await ClientCredentialsGrant(issuer: components.issuer).issue(
                client: client,
                requestedScope: form["scope"],
                requestedAudiences: audiences
            )
        } catch let refusal as OAuthProtocolError {
            components.audit.recordFailure(
                type: "token.refused",
                agentID: client.agentID,
                credentialID: client.clientID,
                clientAddress: context.remoteAddress,
                reason: refusal.code.rawValue
            )
            throw refusal
        }
        components.audit(
            "token.issued",
            context: context,
            agentID: client.agentID,
            credentialID: client.clientID,
            details: ["jti": issued.claims.tokenID, "scope": issued.claims.scope.description, "aud": issued.claims.audience.joined(separator: " ")]
        )
        let body = TokenResponse(
            accessToken: issued.token,
            tokenType: "Bearer",
            expiresIn: Int(issued.claims.expiresAt.timeIntervalSince(issued.claims.issuedAt)),
            scope: issued.claims.scope.description
        )
        var response = try context.responseEncoder.encode(body, from: request, context: context)
        response.headers[.cacheControl] = "no-store"
        response.headers[.pragma] = "no-cache"
        return response
    }

    /// The grants this server implements today; advertised in the metadata too.
    static let supportedGrants: Set<GrantType> = [.clientCredentials]

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

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case tokenType = "token_type"
        case expiresIn = "expires_in"
        case scope
    }
}
