import AgentAuthCore
import AgentAuthHTTP
import Foundation
import Hummingbird

/// `/admin/agents/{id}/clients` and `/admin/clients/{id}`: register OAuth clients (RFC 7591
/// names), list and show them, rotate their secrets.
struct ClientsController {
    let clients: ClientAdministration
    /// A disable or delete reaches this node's deny-list (and the feed's waiting verifiers) before the answer.
    let revocationSync: RevocationSync
    let chainKey: AuditChainKey

    var endpoints: RouteCollection<AgentAuthRequestContext> {
        let routes = RouteCollection(context: AgentAuthRequestContext.self)
        routes.post("agents/:agent/clients", use: create)
        routes.get("agents/:agent/clients", use: list)
        routes.get("clients/:client", use: show)
        routes.post("clients/:client/rotate-secret", use: rotateSecret)
        routes.patch("clients/:client", use: update)
        routes.post("clients/:client/disable") { _, context in try await setStatus(context, .disabled) }
        routes.post("clients/:client/enable") { _, context in try await setStatus(context, .active) }
        routes.delete("clients/:client", use: delete)
        routes.post("clients/:client/revoke-tokens", use: revokeTokens)
        return routes
    }

    struct CreateRequest: Decodable {
        let clientID: String?
        let scope: String?
        let audience: [String]?
        let tokenTTL: Int?
        let grantTypes: [String]?
        let authMethod: String?
        let clientName: String?
        let rateLimit: String?

        enum CodingKeys: String, CodingKey {
            case scope, audience
            case clientID = "client_id"
            case clientName = "client_name"
            case rateLimit = "rate_limit"
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
            clientName = try container.decodeIfPresent(String.self, forKey: .clientName)
            rateLimit = try container.decodeIfPresent(String.self, forKey: .rateLimit)
        }
    }

    /// A PATCH body: a member absent keeps the field, `null` removes it (see `FieldPatch`);
    /// `scope` can't be removed, only narrowed.
    struct UpdateRequest: Decodable {
        let update: ClientUpdate

        enum CodingKeys: String, CodingKey {
            case scope
            case clientName = "client_name"
            case rateLimit = "rate_limit"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            update = ClientUpdate(
                name: try container.decodePatch(String.self, forKey: .clientName),
                scope: try container.decodeUnlessNull(String.self, forKey: .scope),
                rateLimit: try container.decodePatch(String.self, forKey: .rateLimit)
            )
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
                jwks: jwks,
                name: body.clientName,
                rateLimit: body.rateLimit
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

    func update(_ request: Request, context: AgentAuthRequestContext) async throws -> ClientResponse {
        let body = try await JSONBody.decode(UpdateRequest.self, from: request, context: context)
        let client = try await clients.updateClient(
            id: try context.parameters.require("client"),
            body.update,
            by: AuditActor(context, chainKey: chainKey)
        )
        try? await revocationSync.sync()
        return ClientResponse(client)
    }

    /// A disable revokes the client's tokens, so it waits for the verifiers as `revoke-tokens` does.
    func setStatus(_ context: AgentAuthRequestContext, _ status: OAuthClient.Status) async throws -> ClientResponse {
        let client = try await clients.setClientStatus(
            id: try context.parameters.require("client"),
            status,
            by: AuditActor(context, chainKey: chainKey)
        )
        var response = ClientResponse(client)
        guard status == .disabled else { return response }
        response.propagation = await revocationSync.syncAndConfirm()
        return response
    }

    /// Every token the client holds stops working everywhere; the client itself stays usable.
    func revokeTokens(_ request: Request, context: AgentAuthRequestContext) async throws -> ClientResponse {
        let client = try await clients.revokeTokens(clientID: try context.parameters.require("client"), by: AuditActor(context, chainKey: chainKey))
        var response = ClientResponse(client)
        response.propagation = await revocationSync.syncAndConfirm()
        return response
    }

    func delete(_ request: Request, context: AgentAuthRequestContext) async throws -> Response {
        try await clients.deleteClient(id: try context.parameters.require("client"), by: AuditActor(context, chainKey: chainKey))
        // Its tokens are revoked: answered once the verifiers know (204 has no body to say how far it got).
        _ = await revocationSync.syncAndConfirm()
        return Response(status: .noContent)
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
