public import AgentAuthCore
public import Hummingbird
public import HummingbirdAuth

/// The per-route scope policy: no identity → 401 with a bare `Bearer` challenge; an identity
/// without the scope → 403 `insufficient_scope` naming it (RFC 6750 §3.1).
public struct RequireScope<Context: AuthRequestContext<AgentIdentity>>: RouterMiddleware {
    /// The identity must hold every one of these.
    let required: [Scope]
    /// Or, failing that, this one (e.g. `admin` may introspect).
    let alternative: Scope?

    public init(_ required: Scope..., or alternative: Scope? = nil) {
        self.required = required
        self.alternative = alternative
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let identity = context.identity else { throw OAuthError.missingCredentials() }
        let allowed = required.allSatisfy(identity.has) || alternative.map(identity.has) == true
        guard allowed else { throw OAuthError.insufficientScope(required.map(\.value).joined(separator: " ")) }
        return try await next(request, context)
    }
}
