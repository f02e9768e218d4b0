import AgentAuthMiddleware
import Hummingbird

/// The routes of the example API and the scope each one needs.
enum ExampleRoutes {
    static let conversationsRead = Scope("conversations:read")!
    static let billingRead = Scope("billing:read")!

    static func router(agentAuth: ResourceServerMiddleware<AgentAuthRequestContext>, drain: ShutdownDrain) -> Router<AgentAuthRequestContext> {
        let router = Router(context: AgentAuthRequestContext.self)
        router.add(middleware: agentAuth)
        // Prometheus metrics, without authentication: counts and timings under bounded labels.
        agentAuth.addMetricsRoute(to: router)
        router.get("healthz") { _, _ in ["status": "ok"] }
        // Ready while the revocation feed is fresh (otherwise revocations may not be seen in
        // time) and the process is not shutting down.
        router.get("readyz") { _, _ -> [String: String] in
            guard !drain.isDraining else { throw OAuthError.temporarilyUnavailable("the server is shutting down", retryAfter: 5) }
            try agentAuth.checkReady()
            return ["status": "ready"]
        }
        router.group("v1/conversations").add(middleware: RequireScope(conversationsRead)).get { _, _ in Conversations(conversations: []) }
        router.group("v1/billing/balance").add(middleware: RequireScope(billingRead)).get { _, _ in Balance(balance: 150.0, currency: "USD") }
        return router
    }

    struct Conversations: ResponseEncodable {
        let conversations: [String]
    }

    struct Balance: ResponseEncodable {
        let balance: Double
        let currency: String
    }
}
