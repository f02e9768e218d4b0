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
        return routes
    }

    struct CreateRequest: Decodable {
        let name: String
    }

    func create(_ request: Request, context: AgentAuthRequestContext) async throws -> EditedResponse<AgentResponse> {
        let body = try await JSONBody.decode(CreateRequest.self, from: request, context: context)
        let agent = try await agents.createAgent(name: body.name, by: AuditActor(context, chainKey: chainKey))
        return EditedResponse(status: .created, response: AgentResponse(agent))
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
        if status == .disabled { try? await revocationSync.sync() }
        return AgentResponse(agent)
    }
}
