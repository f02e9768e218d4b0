import AgentAuthCore
import AgentAuthHTTP
import Hummingbird

/// `/admin/rate-limits`: define, list, show and delete rate-limit tiers (DESIGN.md "Rate limits
/// and quotas").
struct RateLimitsController {
    let rateLimits: RateLimitAdministration
    /// A change reaches the feed's waiting verifiers before the answer (they refetch the limits).
    let revocationSync: RevocationSync
    let chainKey: AuditChainKey

    var endpoints: RouteCollection<AgentAuthRequestContext> {
        let routes = RouteCollection(context: AgentAuthRequestContext.self)
        routes.get("rate-limits", use: list)
        routes.put("rate-limits/:name", use: put)
        routes.get("rate-limits/:name", use: show)
        routes.delete("rate-limits/:name", use: delete)
        return routes
    }

    struct PutRequest: Decodable {
        let requests: Int
        let windowSeconds: Int
        let burst: Int?

        enum CodingKeys: String, CodingKey {
            case requests, burst
            case windowSeconds = "window_seconds"
        }
    }

    func put(_ request: Request, context: AgentAuthRequestContext) async throws -> RateLimitTierResponse {
        let body = try await JSONBody.decode(PutRequest.self, from: request, context: context)
        let tier = try await rateLimits.putTier(
            name: try context.parameters.require("name"),
            requests: body.requests,
            windowSeconds: body.windowSeconds,
            burst: body.burst,
            by: AuditActor(context, chainKey: chainKey)
        )
        try? await revocationSync.sync()
        return RateLimitTierResponse(tier)
    }

    func list(_ request: Request, context: AgentAuthRequestContext) async throws -> RateLimitTierListResponse {
        RateLimitTierListResponse(try await rateLimits.tiers())
    }

    func show(_ request: Request, context: AgentAuthRequestContext) async throws -> RateLimitTierResponse {
        RateLimitTierResponse(try await rateLimits.tier(name: try context.parameters.require("name")))
    }

    func delete(_ request: Request, context: AgentAuthRequestContext) async throws -> Response {
        try await rateLimits.deleteTier(name: try context.parameters.require("name"), by: AuditActor(context, chainKey: chainKey))
        try? await revocationSync.sync()
        return Response(status: .noContent)
    }
}
