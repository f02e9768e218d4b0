public import AgentAuthCore

/// A key source that the revocation feed keeps in step with the issuer's signing-key rotations
/// (`RemoteJWKS`). `RevocationFeedFollower` hands it the feed's `signing_key` events and tells it
/// when the feed starts over; what to fetch, and when, is the source's business.
public protocol FeedFollowingKeySource: Sendable {
    /// The `signing_key` events of one feed page, oldest first. Must not wait for the network:
    /// the follower goes on applying revocations meanwhile.
    func apply(_ events: [RevocationEvent]) async

    /// The feed answered `reset` (the cursor was too old): rotations may have been missed.
    func feedWasReset() async
}
