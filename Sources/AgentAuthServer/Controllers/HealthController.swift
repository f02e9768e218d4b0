import AgentAuthCore
import AgentAuthHTTP
import Hummingbird
import Logging

/// Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the store answers, and
/// the process is not shutting down).
struct HealthController {
    let store: any AgentAuthStore
    let drain: ShutdownDrain

    func addRoutes(to router: Router<AgentAuthRequestContext>) {
        router.get("healthz") { _, _ in Status(status: "ok") }
        router.get("readyz") { _, _ in
            guard !drain.isDraining else { throw OAuthError.temporarilyUnavailable("the server is shutting down", retryAfter: 5) }
            do {
                try await store.ping()
            } catch {
                throw OAuthError.temporarilyUnavailable("the credential store is unavailable")
            }
            return Status(status: "ready")
        }
    }

    struct Status: ResponseEncodable {
        let status: String
    }
}
