import AgentAuthCore
import AgentAuthHTTP
import Hummingbird

/// `/admin/agents/{id}/delegation`: which agents may act for an agent in token exchange.
struct DelegationController {
    let delegation: DelegationAdministration
    let chainKey: AuditChainKey

    var endpoints: RouteCollection<AgentAuthRequestContext> {
        let routes = RouteCollection(context: AgentAuthRequestContext.self)
        routes.get("agents/:agent/delegation", use: show)
        routes.put("agents/:agent/delegation", use: set)
        return routes
    }

    struct PolicyRequest: Decodable {
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

    func show(_ request: Request, context: AgentAuthRequestContext) async throws -> DelegationPolicyResponse {
        let agentID = try context.parameters.require("agent")
        return DelegationPolicyResponse(agentID: agentID, mayAct: try await delegation.policy(agentID: agentID))
    }

    func set(_ request: Request, context: AgentAuthRequestContext) async throws -> DelegationPolicyResponse {
        let body = try await JSONBody.decode(PolicyRequest.self, from: request, context: context)
        let agentID = try context.parameters.require("agent")
        let mayAct = try await delegation.setDelegationPolicy(agentID: agentID, mayAct: body.mayAct, by: AuditActor(context, chainKey: chainKey))
        return DelegationPolicyResponse(agentID: agentID, mayAct: mayAct)
    }
}
