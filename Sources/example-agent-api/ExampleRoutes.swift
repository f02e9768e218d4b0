import AgentAuthCore
import AgentAuthHTTP
import AgentAuthMiddleware
import Hummingbird

/// The routes of the example API and the scope each one needs.
enum ExampleRoutes {
    static let conversationsRead = Scope("conversations:read")!
    static let billingRead = Scope("billing:read")!

    static func router(introspection: IntrospectionClient, tokens: TokenVerifier, feed: RevocationFeedFollower) -> Router<AgentAuthRequestContext> {
        let router = Router(context: AgentAuthRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())
        router.add(middleware: RequestLimitsMiddleware())
        router.get("healthz") { _, _ in ["status": "ok"] }
        // Ready while the revocation feed is fresh: otherwise revocations may not be seen in time.
        router.get("readyz") { _, _ -> [String: String] in
            guard feed.isFresh else { throw OAuthError.temporarilyUnavailable("the revocation feed is stale", retryAfter: 2) }
            return ["status": "ready"]
        }
        let v1 = router.group("v1").add(middleware: ResourceAuthenticator(introspection: introspection, tokens: tokens, feed: feed))
        v1.group("conversations").add(middleware: RequireScope(conversationsRead)).get { _, _ in Conversations(conversations: []) }
        v1.group("billing/balance").add(middleware: RequireScope(billingRead)).get { _, _ in Balance(balance: 150.0, currency: "USD") }
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
