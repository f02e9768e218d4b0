import AgentAuthCore
import AgentAuthHTTP
import Hummingbird

/// Audits authenticated requests that were refused (400, 403, 404, 409, …): who tried what and
/// why, aggregated per credential, address and minute like authentication failures. Sits after
/// the authenticator so the caller is known; authentication failures are audited there.
struct AuditRefusalsMiddleware: RouterMiddleware {
    typealias Context = AgentAuthRequestContext
    let audit: AuditLog
    let type: AuditEventType

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let refusal = JSONErrorMiddleware<Context>.oauthError(for: error, logger: context.logger)
            if (400..<500).contains(refusal.status.code), refusal.status != .unauthorized {
                audit.recordFailure(
                    type: type,
                    agentID: context.identity?.agentID,
                    credentialID: context.identity?.credentialID,
                    clientAddress: context.clientAddress,
                    reason: "\(refusal.status.code) \(refusal.code) \(request.method.rawValue) \(context.endpointPath ?? request.uri.path)"
                )
            }
            throw error
        }
    }
}
