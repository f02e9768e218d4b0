import AgentAuthCore
import AgentAuthHTTP
import Hummingbird

/// `GET /admin/verifiers`: the processes following the revocation feed, what they have
/// acknowledged and whether revocations wait for them.
struct VerifiersController {
    let registry: VerifierRegistry

    var endpoints: RouteCollection<AgentAuthRequestContext> {
        let routes = RouteCollection(context: AgentAuthRequestContext.self)
        routes.get("verifiers", use: list)
        return routes
    }

    func list(_ request: Request, context: AgentAuthRequestContext) async throws -> VerifierListResponse {
        VerifierListResponse(try await registry.standings())
    }
}
