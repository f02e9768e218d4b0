import AgentAuthCore
import AgentAuthHTTP
import Foundation
import Hummingbird

/// `GET /admin/audit?agent_id=&type=&since=&limit=`: audit events, newest first.
struct AuditController {
    let store: any AuditStore

    var endpoints: RouteCollection<AgentAuthRequestContext> {
        let routes = RouteCollection(context: AgentAuthRequestContext.self)
        routes.get("audit", use: list)
        return routes
    }

    func list(_ request: Request, context: AgentAuthRequestContext) async throws -> AuditListResponse {
        let query = request.uri.queryParameters
        let limit = try request.integerParameter("limit") ?? 100
        guard (1...1000).contains(limit) else { throw OAuthError.invalidRequest("limit must be between 1 and 1000") }
        var since: Date?
        if let value = query["since"] {
            guard let parsed = TimeSpec.date(String(value), now: Date()) else {
                throw OAuthError.invalidRequest("since must be an ISO 8601 time, Unix seconds, or a duration such as 15m, 1h, 2d")
            }
            since = parsed
        }
        let filter = AuditFilter(
            agentID: query["agent_id"].map(String.init),
            type: query["type"].map { AuditEventType(rawValue: String($0)) },
            since: since,
            limit: limit
        )
        return AuditListResponse(try await store.auditEvents(filter))
    }
}
