import AgentAuthCore
import Testing

@testable import AgentAuthMiddleware

/// The bound a verifier reports against the one it keeps: the auth server stops waiting for a
/// verifier after the reported bound, so the verifier must stop trusting its cache by then.
@Suite("Revocation feed follower: reported bound")
struct VerifierBoundTests {
    @Test("the bound reported is never shorter than the one the follower trusts its cache for", arguments: [0.05, 15, 3_600, 7_200, 200_000])
    func reportedBoundCoversTrust(seconds: Double) {
        let follower = RevocationFeedFollower(
            authServer: "http://127.0.0.1:9",
            credential: "unused",
            stalenessBound: .milliseconds(Int(seconds * 1000))
        )
        #expect(
            Duration.milliseconds(follower.boundMilliseconds) >= follower.stalenessBound,
            "reports \(follower.boundMilliseconds) ms, trusts its cache for \(follower.stalenessBound)"
        )
        #expect(Verifier.boundRange.contains(follower.boundMilliseconds))
    }
}
