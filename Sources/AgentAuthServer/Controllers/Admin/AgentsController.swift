import AgentAuthCore
import AgentAuthHTTP
import Hummingbird

/// `/admin/agents`: create, list, show, disable and enable agents (DESIGN.md "Admin API").
/// Authentication and the `admin` scope are enforced by the group this collection is added to.
struct AgentsController {
    let agents: AgentAdministration
    /// A disable reaches this node's deny-list (and the feed's waiting verifiers) before the answer.
    let revocationSync: RevocationSync
    let chainKey: AuditChainKey

    var endpoints: RouteCollection<AgentAuthRequestContext> {
        let routes = RouteCollection(context: AgentAuthRequestContext.self)
        routes.post("agents", use: create)
        routes.get("agents", use: list)
        routes.get("agents/:agent", use: show)
        routes.post("agents/:agent/disable") { _, context in try await setStatus(context, .disabled) }
        routes.post("agents/:agent/enable") { _, context in try await setStatus(context, .active) }
        routes.patch("agents/:agent", use: update)
        routes.get("agents/:agent/usage", use: usage)
        return routes
    }

    struct CreateRequest: Decodable {
        let name: String
        let rateLimit: String?
        let quota: Quota?

        enum CodingKeys: String, CodingKey {
            case name, quota
            case rateLimit = "rate_limit"
        }
    }

    func create(_ request: Request, context: AgentAuthRequestContext) async throws -> EditedResponse<AgentResponse> {
        let body = try await JSONBody.decode(CreateRequest.self, from: request, context: context)
        let agent = try await agents.createAgent(
            name: body.name,
            rateLimit: body.rateLimit,
            quota: body.quota,
            by: AuditActor(context, chainKey: chainKey)
        )
        return EditedResponse(status: .created, response: AgentResponse(agent))
    }

    /// A PATCH body: a member absent keeps the field, `null` removes it (see `FieldPatch`).
    struct UpdateRequest: Decodable {
        let update: AgentUpdate

        enum CodingKeys: String, CodingKey {
            case name, quota
            case rateLimit = "rate_limit"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            update = AgentUpdate(
                name: try container.decodePatch(String.self, forKey: .name),
                rateLimit: try container.decodePatch(String.self, forKey: .rateLimit),
                quota: try container.decodePatch(Quota.self, forKey: .quota)
            )
        }
    }

    func update(_ request: Request, context: AgentAuthRequestContext) async throws -> AgentResponse {
        let body = try await JSONBody.decode(UpdateRequest.self, from: request, context: context)
        let agent = try await agents.updateAgent(
            id: try context.parameters.require("agent"),
            body.update,
            by: AuditActor(context, chainKey: chainKey)
        )
        try? await revocationSync.sync()
        return AgentResponse(agent)
    }

    func usage(_ request: Request, context: AgentAuthRequestContext) async throws -> UsageResponse {
        var period = Quota.Period.day
        if let value = request.uri.queryParameters["period"] {
            guard let parsed = Quota.Period(rawValue: String(value)) else {
                throw OAuthError.invalidRequest("period must be one of: \(Quota.Period.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            period = parsed
        }
        let summary = try await agents.usage(agentID: try context.parameters.require("agent"), period: period)
        return UsageResponse(summary, period: period)
    }

    func list(_ request: Request, context: AgentAuthRequestContext) async throws -> AgentListResponse {
        let limit = try request.integerParameter("limit") ?? 100
        let offset = try request.integerParameter("offset") ?? 0
        return AgentListResponse(try await agents.agents(limit: limit, offset: offset))
    }

    func show(_ request: Request, context: AgentAuthRequestContext) async throws -> AgentResponse {
        AgentResponse(try await agents.agent(id: try context.parameters.require("agent")))
    }

    func setStatus(_ context: AgentAuthRequestContext, _ status: Agent.Status) async throws -> AgentResponse {
        let agentID = try context.parameters.require("agent")
        if status == .disabled, agentID == context.identity?.agentID {
            throw OAuthError.conflict("an admin cannot disable its own agent over the API (it would lock itself out); use the CLI")
        }
        let agent = try await agents.setStatus(agentID: agentID, status, by: AuditActor(context, chainKey: chainKey))
        guard status == .disabled else { return AgentResponse(agent) }
        return AgentResponse(agent, propagation: await revocationSync.syncAndConfirm())
    }
}
