import AgentAuthCore
public import Hummingbird

/// Refuses oversized header sections with 431 before any other work. (The HTTP parser itself
/// closes connections whose headers pass its own, larger, limit with a bare 400.)
public struct RequestLimitsMiddleware<Context: RequestContext>: RouterMiddleware {
    public static var defaultMaxHeaderBytes: Int { 16 * 1024 }
    public static var defaultMaxFieldBytes: Int { 8 * 1024 }

    let maxHeaderBytes: Int
    let maxFieldBytes: Int

    public init(maxHeaderBytes: Int = Self.defaultMaxHeaderBytes, maxFieldBytes: Int = Self.defaultMaxFieldBytes) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxFieldBytes = maxFieldBytes
    }

    static var tooLarge: OAuthError {
        OAuthError(
            .init(code: 431, reasonPhrase: "Request Header Fields Too Large"),
            code: .invalidRequest,
            description: "request headers are too large"
        )
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var total = request.uri.string.utf8.count
        guard total <= maxHeaderBytes else { throw Self.tooLarge }
        for field in request.headers {
            let size = field.name.rawName.utf8.count + field.value.utf8.count
            total += size
            guard size <= maxFieldBytes, total <= maxHeaderBytes else { throw Self.tooLarge }
        }
        return try await next(request, context)
    }
}
