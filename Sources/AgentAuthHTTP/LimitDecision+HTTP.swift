public import AgentAuthCore
public import HTTPTypes

extension HTTPField.Name {
    /// draft-ietf-httpapi-ratelimit-headers: the policies that apply to the request.
    public static let rateLimitPolicy = Self("RateLimit-Policy")!
    /// draft-ietf-httpapi-ratelimit-headers: where the caller stands against each policy.
    public static let rateLimit = Self("RateLimit")!
}

extension LimitDecision {
    /// Adds `RateLimit-Policy` (`"NAME";q=REQUESTS;w=WINDOW`) and `RateLimit` (`"NAME";r=REMAINING;t=RESET`)
    /// for each tier that applies, and for a used-up quota (`"quota:day"`, `r=0`), as
    /// structured-field lists. Written out here rather than with
    /// swift-http-structured-headers: tier names are validated to a token alphabet
    /// (`RateLimitTier.isValidName`), so each item is a plain quoted string with integer
    /// parameters and needs no escaping, and this runs on every request.
    public func addHeaders(to headers: inout HTTPFields) {
        guard !standings.isEmpty || quota != nil else { return }
        var policies = ""
        var states = ""
        func add(name: String, requests: Int, window: Int, remaining: Int, reset: Int) {
            if !policies.isEmpty {
                policies += ", "
                states += ", "
            }
            policies += "\"\(name)\";q=\(requests);w=\(window)"
            states += "\"\(name)\";r=\(remaining);t=\(reset)"
        }
        for standing in reportedStandings {
            let tier = standing.tier
            add(name: tier.name, requests: tier.requests, window: tier.windowSeconds, remaining: standing.remaining, reset: standing.resetSeconds)
        }
        if let quota {
            add(name: quota.name, requests: quota.requests, window: quota.windowSeconds, remaining: 0, reset: quota.resetSeconds)
        }
        headers[.rateLimitPolicy] = policies
        headers[.rateLimit] = states
    }

    /// One standing per tier name: when the agent and its credential have the same tier, each
    /// keeps its own state, and the fields report the tighter one (fewer requests left, the
    /// later reset) under the tier's name once, as a list item's name must be unique.
    var reportedStandings: [RateLimiter.Standing] {
        var reported: [RateLimiter.Standing] = []
        for standing in standings {
            if let index = reported.firstIndex(where: { $0.tier.name == standing.tier.name }) {
                reported[index].remaining = min(reported[index].remaining, standing.remaining)
                reported[index].resetSeconds = max(reported[index].resetSeconds, standing.resetSeconds)
            } else {
                reported.append(standing)
            }
        }
        return reported
    }

    /// The 429 for a refused request: `Retry-After` in whole seconds (at least 1), the rate-limit
    /// fields, and `{"error":"rate_limited"}`.
    public var refusal: OAuthError {
        var headers: HTTPFields = [.retryAfter: String(retryAfterSeconds)]
        addHeaders(to: &headers)
        let description =
            quotaExhaustedUntil != nil
            ? "the quota for this period is used up; try again in \(retryAfterSeconds) s"
            : "rate limit exceeded; try again in \(retryAfterSeconds) s"
        return OAuthError(.tooManyRequests, code: .rateLimited, description: description, headers: headers)
    }
}
