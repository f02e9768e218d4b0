import AgentAuthCore
import AgentAuthHTTP
import Foundation
import Hummingbird
import Logging

/// `POST /oauth/introspect` (RFC 7662). The caller authenticates with an API key of scope
/// `introspect` or `admin`. Anything that is not an active credential → `{"active": false}`
/// and nothing more (RFC 7662 §2.2), so no state of an inactive credential leaks.
struct IntrospectionController {
    let verifier: APIKeyVerifier

    var endpoints: RouteCollection<AgentAuthRequestContext> {
        let routes = RouteCollection(context: AgentAuthRequestContext.self)
        routes.group("introspect")
            .add(middleware: APIKeyAuthenticator(verifier: verifier))
            .add(middleware: RequireScope(.introspect, or: .admin))
            .post(use: introspect)
        for method in [HTTPRequest.Method.get, .put, .delete, .patch] {
            routes.on("introspect", method: method) { _, _ -> Response in throw OAuthError.methodNotAllowed(allow: "POST") }
        }
        return routes
    }

    func introspect(_ request: Request, context: AgentAuthRequestContext) async throws -> Response {
        let form = try await FormBody.read(from: request, context: context)
        guard let token = form["token"], !token.isEmpty else { throw OAuthError.invalidRequest("the token parameter is required") }
        let result: IntrospectionResponse
        do {
            let (identity, key) = try await verifier.verifiedKey(token)
            result = .active(identity: identity, key: key)
        } catch is CredentialRejection {
            result = .inactive
        }
        var response = try context.responseEncoder.encode(result, from: request, context: context)
        response.headers[.cacheControl] = "no-store"
        return response
    }
}

/// The RFC 7662 §2.2 answer.
struct IntrospectionResponse: Encodable {
    var active: Bool
    var scope: String?
    var sub: String?
    var tokenType: String?
    var iat: Int?
    var exp: Int?
    var keyID: String?

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

    enum CodingKeys: String, CodingKey {
        case active, scope, sub, iat, exp
        case tokenType = "token_type"
        case keyID = "key_id"
    }
}
