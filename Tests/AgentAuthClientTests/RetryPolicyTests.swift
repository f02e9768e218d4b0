import Testing

@testable import AgentAuthClient

@Suite("RetryPolicy")
struct RetryPolicyTests {
    @Test("waits grow exponentially with equal jitter (at least half the ceiling), capped; Retry-After is a floor")
    func delays() {
        let policy = RetryPolicy(maxAttempts: 6, initialBackoff: .milliseconds(100), maxBackoff: .milliseconds(500))
        for _ in 0..<200 {
            for failed in 1..<6 {
                let ceiling = min(Duration.milliseconds(100) * (1 << (failed - 1)), .milliseconds(500))
                let delay = try! #require(policy.delay(afterFailedAttempts: failed, retryAfter: nil))
                #expect(delay >= ceiling / 2 && delay <= ceiling)
                #expect(policy.delay(afterFailedAttempts: failed, retryAfter: .seconds(2))! >= .seconds(2))
            }
        }
        let spread = Set((0..<50).map { _ in policy.delay(afterFailedAttempts: 3, retryAfter: nil)! })
        #expect(spread.count > 10, "jittered, not one fixed wait")
    }

    @Test("no wait after the last attempt, nor for a Retry-After beyond the limit")
    func limits() {
        let policy = RetryPolicy(maxAttempts: 3, maxRetryAfter: .seconds(30))
        #expect(policy.delay(afterFailedAttempts: 2, retryAfter: nil) != nil)
        #expect(policy.delay(afterFailedAttempts: 3, retryAfter: nil) == nil)
        #expect(policy.delay(afterFailedAttempts: 1, retryAfter: .seconds(31)) == nil)
        #expect(RetryPolicy.none.delay(afterFailedAttempts: 1, retryAfter: nil) == nil)
    }
}
