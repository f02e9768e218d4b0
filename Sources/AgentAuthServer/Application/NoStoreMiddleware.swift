import AgentAuthHTTP
import Hummingbird

/// Marks every response `Cache-Control: no-store`: admin responses carry new secrets and
/// credential metadata that no cache should keep (RFC 9111 §5.2.2.5).
struct NoStoreMiddleware: RouterMiddleware {
    typealias Context = AgentAuthRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.cacheControl] = "no-store"
        return response
    }
}
