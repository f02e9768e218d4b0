import AgentAuthCore
import AgentAuthHTTP
import Foundation
import Hummingbird

/// `/admin/agents/{id}/clients` and `/admin/clients/{id}`: register OAuth clients (RFC 7591
/// names), list and show them, rotate their secrets.
struct ClientsController {
    let clients: ClientAdministration
    let chainKey: AuditChainKey

    var endpoints: RouteCollection<AgentAuthRequestContext> {
        let routes = RouteCollection(context: AgentAuthRequestContext.self)
        routes.post("agents/:agent/clients", use: create)
        routes.get("agents/:agent/clients", use: list)
        routes.get("clients/:client", use: show)
        routes.post("clients/:client/rotate-secret", use: rotateSecret)
        return routes
    }

    struct CreateRequest: Decodable {
        let clientID: String?
        let scope: String?
        let audience: [String]?
        let tokenTTL: Int?
        let grantTypes: [String]?
        let authMethod: String?

        enum CodingKeys: String, CodingKey {
            case scope, audience
            case clientID = "client_id"
            case tokenTTL = "token_ttl"
            case grantTypes = "grant_types"
            case authMethod = "token_endpoint_auth_method"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            clientID = try container.decodeIfPresent(String.self, forKey: .clientID)
            scope = try container.decodeIfPresent(String.self, forKey: .scope)
            if let single = try? container.decodeIfPresent(String.self, forKey: .audience) {
                audience = [single]
            } else {
                audience = try container.decodeIfPresent([String].self, forKey: .audience)
            }
            tokenTTL = try container.decodeIfPresent(Int.self, forKey: .tokenTTL)
            grantTypes = try container.decodeIfPresent([String].self, forKey: .grantTypes)
            authMethod = try container.decodeIfPresent(String.self, forKey: .authMethod)
        }
    }

    func create(_ request: Request, context: AgentAuthRequestContext) async throws -> EditedResponse<ClientResponse> {
        let (body, raw) = try await JSONBody.decodeWithObject(CreateRequest.self, from: request, context: context)
        var jwks: String?
        if let value = raw["jwks"] {
            guard JSONSerialization.isValidJSONObject(value), let data = try? JSONSerialization.data(withJSONObject: value) else {
                throw OAuthError.invalidRequest("jwks must be a JSON object")
            }
            jwks = String(decoding: data, as: UTF8.self)
        }
        let issued = try await clients.createClient(
            agentID: try context.parameters.require("agent"),
            ClientRequest(
                clientID: body.clientID,
                scope: body.scope,
                audiences: body.audience,
                tokenTTL: body.tokenTTL,
                grantTypes: body.grantTypes,
                authMethod: body.authMethod,
                jwks: jwks
            ),
            by: AuditActor(context, chainKey: chainKey)
        )
        return EditedResponse(status: .created, response: ClientResponse(issued.client, secret: issued.secret))
    }

    func list(_ request: Request, context: AgentAuthRequestContext) async throws -> ClientListResponse {
        ClientListResponse(try await clients.clients(agentID: try context.parameters.require("agent")))
    }

    func show(_ request: Request, context: AgentAuthRequestContext) async throws -> ClientResponse {
        ClientResponse(try await clients.client(id: try context.parameters.require("client")))
    }

    func rotateSecret(_ request: Request, context: AgentAuthRequestContext) async throws -> EditedResponse<ClientResponse> {
        let body = try await JSONBody.decodeIfPresent(GracePeriodRequest.self, from: request, context: context)
        let issued = try await clients.rotateSecret(
            clientID: try context.parameters.require("client"),
            graceSeconds: body?.graceSeconds ?? 0,
            by: AuditActor(context, chainKey: chainKey)
        )
        return EditedResponse(status: .created, response: ClientResponse(issued.client, secret: issued.secret))
    }
}
