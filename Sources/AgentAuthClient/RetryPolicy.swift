/// When a token request that failed for a reason that may pass (a network error, a 5xx) is
/// tried again: up to `maxAttempts` in all, after an exponential backoff with "equal jitter":
/// half of `initialBackoff · 2ⁿ⁻¹` (capped at `maxBackoff`) for sure, plus a random part up to
/// the other half. The sure half keeps a failing server from being asked again at once; the
/// random half keeps many agents failing together from coming back together. A `Retry-After` from the server is a floor for
/// the wait; one longer than `maxRetryAfter` ends the retries at once. A 4xx answer is never
/// retried: it won't change by asking again.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts in all, the first included (at least 1).
    public var maxAttempts: Int
    /// The ceiling of the first wait; it doubles with every failure.
    public var initialBackoff: Duration
    /// The largest ceiling.
    public var maxBackoff: Duration
    /// The longest `Retry-After` waited for; a longer one ends the retries.
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
        let jittered = ceiling / 2 + (ceiling / 2) * Double.random(in: 0...1)
        return max(jittered, retryAfter ?? .zero)
    }
}
