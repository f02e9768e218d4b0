public import AgentAuthCore
public import AgentAuthHTTP
public import Hummingbird
public import HummingbirdAuth

/// Rate limits and quotas for authenticated requests, after the credential is verified: 429
/// with `Retry-After` while the agent or its credential is over its tier or its quota is used up;
/// otherwise the request goes on, and its answer (2xx, 403, any other) carries the
/// `RateLimit-Policy` and `RateLimit` fields of the tiers that apply. Every authenticated request
/// is counted for usage reports, served or refused. Requests without an identity pass untouched.
public struct RateLimitMiddleware<Context: AuthRequestContext<AgentIdentity>>: RouterMiddleware {
    let limiter: RequestLimiter
    let usage: UsageCounter
    let metrics: AgentAuthMetrics?

    /// - Parameter metrics: where refusals are counted (`agentauth_rate_limited_total`); `nil`: nowhere.
    public init(limiter: RequestLimiter, usage: UsageCounter, metrics: AgentAuthMetrics? = nil) {
        self.limiter = limiter
        self.usage = usage
        self.metrics = metrics
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let identity = context.identity else { return try await next(request, context) }
        let subject = identity.limitSubject
        let decision = limiter.admit(subject)
        usage.count(subject, limited: !decision.allowed)
        guard decision.allowed else {
            metrics?.recordRateLimited()
            throw decision.refusal
        }
        guard !decision.standings.isEmpty else { return try await next(request, context) }
        do {
            var response = try await next(request, context)
            decision.addHeaders(to: &response.headers)
            return response
        } catch {
            var refusal = JSONErrorMiddleware<Context>.oauthError(for: error, logger: context.logger)
            decision.addHeaders(to: &refusal.headers)
            throw refusal
        }
    }
}
