import AgentAuthCore
import AgentAuthHTTP
import Foundation
import Hummingbird
import Logging

/// The admin API for agents and keys (DESIGN.md "Admin API"). Authentication and the
/// `admin` scope are enforced by the group this collection is added to.
struct AdminController {
    let components: ServerComponents
    var administration: AgentAdministration { AgentAdministration(store: components.store, now: components.now) }
    var clientAdministration: ClientAdministration {
        ClientAdministration(store: components.store, defaultAudience: components.configuration.defaultAudience, now: components.now)
    }

    var endpoints: RouteCollection<AgentAuthRequestContext> {
        let routes = RouteCollection(context: AgentAuthRequestContext.self)
        routes.post("agents", use: createAgent)
        routes.get("agents", use: listAgents)
        routes.get("agents/:agent", use: showAgent)
        routes.post("agents/:agent/disable") { _, context in try await setStatus(context, .disabled) }
        routes.post("agents/:agent/enable") { _, context in try await setStatus(context, .active) }
        routes.post("agents/:agent/keys", use: createKey)
        routes.get("agents/:agent/keys", use: listKeys)
        routes.get("keys/:key", use: showKey)
        routes.post("keys/:key/revoke", use: revokeKey)
        routes.post("keys/:key/roll", use: rollKey)
        routes.post("agents/:agent/clients", use: createClient)
        routes.get("agents/:agent/clients", use: listClients)
        routes.get("clients/:client", use: showClient)
        routes.post("clients/:client/rotate-secret", use: rotateClientSecret)
        routes.get("signing-keys", use: listSigningKeys)
        routes.post("signing-keys/rotate", use: rotateSigningKey)
        routes.get("audit", use: listAudit)
        routes.get("agents/:agent/delegation", use: showDelegation)
        routes.put("agents/:agent/delegation", use: setDelegation)
        return routes
    }

    // MARK: Agents

    struct CreateAgentRequest: Decodable {
        let name: String
    }

    func createAgent(_ request: Request, context: AgentAuthRequestContext) async throws -> EditedResponse<AgentResponse> {
        let body = try await JSONBody.decode(CreateAgentRequest.self, from: request, context: context)
        let agent = try await administration.createAgent(name: body.name, by: components.actor(for: context))
        return EditedResponse(status: .created, response: AgentResponse(agent))
    }

    func listAgents(_ request: Request, context: AgentAuthRequestContext) async throws -> AgentListResponse {
        let limit = try Self.intParameter(request, "limit") ?? 100
        let offset = try Self.intParameter(request, "offset") ?? 0
        return AgentListResponse(try await administration.agents(limit: limit, offset: offset))
    }

    func showAgent(_ request: Request, context: AgentAuthRequestContext) async throws -> AgentResponse {
        AgentResponse(try await administration.agent(id: try context.parameters.require("agent")))
    }

    func setStatus(_ context: AgentAuthRequestContext, _ status: Agent.Status) async throws -> AgentResponse {
        let agentID = try context.parameters.require("agent")
        if status == .disabled, agentID == context.identity?.agentID {
            throw OAuthError.conflict("an admin cannot disable its own agent over the API (it would lock itself out); use the CLI")
        }
        let agent = try await administration.setStatus(agentID: agentID, status, by: components.actor(for: context))
        if status == .disabled { try? await components.revocationSync.sync() }
        return AgentResponse(agent)
    }

    // MARK: Keys

    struct CreateKeyRequest: Decodable {
        let scopes: [String]
        let name: String?
        let expiresIn: Int?
        let rateLimit: String?

        enum CodingKeys: String, CodingKey {
            case scopes, name
            case expiresIn = "expires_in"
            case rateLimit = "rate_limit"
        }
    }

    func createKey(_ request: Request, context: AgentAuthRequestContext) async throws -> EditedResponse<APIKeyResponse> {
        let body = try await JSONBody.decode(CreateKeyRequest.self, from: request, context: context)
        let issued = try await administration.createAPIKey(
            agentID: try context.parameters.require("agent"),
            APIKeyRequest(scopes: body.scopes, name: body.name, expiresIn: body.expiresIn, rateLimit: body.rateLimit),
            by: components.actor(for: context)
        )
        return EditedResponse(status: .created, response: APIKeyResponse(issued.record, plaintext: issued.plaintext))
    }

    func listKeys(_ request: Request, context: AgentAuthRequestContext) async throws -> APIKeyListResponse {
        let keys = try await administration.apiKeys(agentID: try context.parameters.require("agent"))
        return APIKeyListResponse(keys)
    }

    func showKey(_ request: Request, context: AgentAuthRequestContext) async throws -> APIKeyResponse {
        APIKeyResponse(try await administration.apiKey(id: try context.parameters.require("key")))
    }

    func revokeKey(_ request: Request, context: AgentAuthRequestContext) async throws -> APIKeyResponse {
        let keyID = try context.parameters.require("key")
        if keyID == context.identity?.credentialID {
            throw OAuthError.conflict("an admin cannot revoke the key it is calling with (it would lock itself out); use the CLI")
        }
        let key = try await administration.revokeAPIKey(id: keyID, by: components.actor(for: context))
        try? await components.revocationSync.sync()
        return APIKeyResponse(key)
    }

    struct RollKeyRequest: Decodable {
        let graceSeconds: Int?

        enum CodingKeys: String, CodingKey {
            case graceSeconds = "grace_seconds"
        }
    }

    func rollKey(_ request: Request, context: AgentAuthRequestContext) async throws -> EditedResponse<APIKeyResponse> {
        let body = try await JSONBody.decodeIfPresent(RollKeyRequest.self, from: request, context: context)
        let (replacement, previous) = try await administration.rollAPIKey(
            id: try context.parameters.require("key"),
            graceSeconds: body?.graceSeconds ?? 0,
            by: components.actor(for: context)
        )
        return EditedResponse(status: .created, response: APIKeyResponse(replacement.record, plaintext: replacement.plaintext, replaces: previous))
    }

    // MARK: Clients

    struct CreateClientRequest: Decodable {
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

    func createClient(_ request: Request, context: AgentAuthRequestContext) async throws -> EditedResponse<ClientResponse> {
        let (body, raw) = try await JSONBody.decodeWithObject(CreateClientRequest.self, from: request, context: context)
        var jwks: String?
        if let value = raw["jwks"] {
            guard JSONSerialization.isValidJSONObject(value), let data = try? JSONSerialization.data(withJSONObject: value) else {
                throw OAuthError.invalidRequest("jwks must be a JSON object")
            }
            jwks = String(decoding: data, as: UTF8.self)
        }
        let issued = try await clientAdministration.createClient(
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
            by: components.actor(for: context)
        )
        return EditedResponse(status: .created, response: ClientResponse(issued.client, secret: issued.secret))
    }

    func listClients(_ request: Request, context: AgentAuthRequestContext) async throws -> ClientListResponse {
        ClientListResponse(try await clientAdministration.clients(agentID: try context.parameters.require("agent")))
    }

    func showClient(_ request: Request, context: AgentAuthRequestContext) async throws -> ClientResponse {
        ClientResponse(try await clientAdministration.client(id: try context.parameters.require("client")))
    }

    func rotateClientSecret(_ request: Request, context: AgentAuthRequestContext) async throws -> EditedResponse<ClientResponse> {
        let body = try await JSONBody.decodeIfPresent(RollKeyRequest.self, from: request, context: context)
        let issued = try await clientAdministration.rotateSecret(
            clientID: try context.parameters.require("client"),
            graceSeconds: body?.graceSeconds ?? 0,
            by: components.actor(for: context)
        )
        return EditedResponse(status: .created, response: ClientResponse(issued.client, secret: issued.secret))
    }

    // MARK: Signing keys

    func listSigningKeys(_ request: Request, context: AgentAuthRequestContext) async throws -> SigningKeyListResponse {
        SigningKeyListResponse(try await components.keyRing.records(), at: components.now())
    }

    struct RotateSigningKeyRequest: Decodable {
        let algorithm: SigningAlgorithm?
    }

    func rotateSigningKey(_ request: Request, context: AgentAuthRequestContext) async throws -> EditedResponse<SigningKeyResponse> {
        let body = try await JSONBody.decodeIfPresent(RotateSigningKeyRequest.self, from: request, context: context)
        let key = try await components.keyRing.rotate(
            to: body?.algorithm ?? components.configuration.signingAlgorithm,
            retiredKeyLifetime: try await components.retiredKeyLifetime(),
            activationDelay: components.signingKeyActivationDelay,
            by: components.actor(for: context)
        )
        // The feed answers verifiers now, not at the next sync: they fetch the key while it is pending.
        try? await components.revocationSync.sync()
        let schedule = SigningKeySchedule(try await components.keyRing.records())
        return EditedResponse(status: .created, response: SigningKeyResponse(key, schedule: schedule, at: components.now()))
    }

    // MARK: Delegation policy

    struct DelegationRequest: Decodable {
        /// The agents that may act for this one; `null`: any agent. The member must be present:
        /// a missing or misspelt `may_act` must not silently open the policy.
        let mayAct: [String]?

        enum CodingKeys: String, CodingKey {
            case mayAct = "may_act"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            guard container.contains(.mayAct) else {
                throw DecodingError.keyNotFound(
                    CodingKeys.mayAct,
                    .init(codingPath: [], debugDescription: "may_act is required (null allows any agent)")
                )
            }
            mayAct = try container.decodeIfPresent([String].self, forKey: .mayAct)
        }
    }

    func showDelegation(_ request: Request, context: AgentAuthRequestContext) async throws -> DelegationPolicyResponse {
        let agent = try await administration.agent(id: try context.parameters.require("agent"))
        return DelegationPolicyResponse(agentID: agent.id, mayAct: try await components.store.delegationPolicy(agentID: agent.id))
    }

    func setDelegation(_ request: Request, context: AgentAuthRequestContext) async throws -> DelegationPolicyResponse {
        let body = try await JSONBody.decode(DelegationRequest.self, from: request, context: context)
        let agentID = try context.parameters.require("agent")
        let mayAct = try await administration.setDelegationPolicy(agentID: agentID, mayAct: body.mayAct, by: components.actor(for: context))
        return DelegationPolicyResponse(agentID: agentID, mayAct: mayAct)
    }

    // MARK: Audit

    func listAudit(_ request: Request, context: AgentAuthRequestContext) async throws -> AuditListResponse {
        let query = request.uri.queryParameters
        let limit = try Self.intParameter(request, "limit") ?? 100
        guard (1...1000).contains(limit) else { throw OAuthError.invalidRequest("limit must be between 1 and 1000") }
        var since: Date?
        if let value = query["since"] {
            guard let parsed = TimeSpec.date(String(value), now: Date()) else {
                throw OAuthError.invalidRequest("since must be an ISO 8601 time, Unix seconds, or a duration such as 15m, 1h, 2d")
            }
            since = parsed
        }
        let filter = AuditFilter(agentID: query["agent_id"].map(String.init), type: query["type"].map(String.init), since: since, limit: limit)
        return AuditListResponse(try await components.store.auditEvents(filter))
    }

    // MARK: Helpers

    static func intParameter(_ request: Request, _ name: String) throws -> Int? {
        guard let value = request.uri.queryParameters[name[...]] else { return nil }
        guard let number = Int(value) else { throw OAuthError.invalidRequest("\(name) must be an integer") }
        return number
    }
}
