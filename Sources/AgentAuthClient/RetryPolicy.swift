/// When a token request that failed for a reason that may pass (a network error, a 5xx) is
/// tried again: up to `maxAttempts` in all, after an exponential backoff with full jitter
/// (a random wait up to `initialBackoff · 2ⁿ`, capped at `maxBackoff`), so that many agents
/// failing together don't come back together. A `Retry-After` from the server is a floor for
/// the wait; one longer than `maxRetryAfter` ends the retries at once. A 4xx answer is never
/// retried: it won't change by asking again.
public struct RetryPolicy: Sendable, Hashable {
    public var maxAttempts: Int
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    public var maxRetryAfter: Duration

    public init(
        maxAttempts: Int = 5,
        initialBackoff: Duration = .milliseconds(250),
        maxBackoff: Duration = .seconds(10),
        maxRetryAfter: Duration = .seconds(60)
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.maxRetryAfter = maxRetryAfter
    }

    public static let `default` = RetryPolicy()
    /// One attempt, no retries.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// The wait before attempt `failedAttempts + 1`, or `nil` when there should be none.
    func delay(afterFailedAttempts failedAttempts: Int, retryAfter: Duration?) -> Duration? {
        guard failedAttempts < maxAttempts else { return nil }
        if let retryAfter, retryAfter > maxRetryAfter { return nil }
        let exponent = min(failedAttempts - 1, 30)
        let ceiling = min(initialBackoff * (1 << exponent), maxBackoff)
        let jittered = ceiling * Double.random(in: 0...1)
        return max(jittered, retryAfter ?? .zero)
    }
}
