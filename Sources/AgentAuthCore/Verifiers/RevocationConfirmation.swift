public import Foundation

/// Waits until every live verifier has acknowledged a feed event (its cursor reached the event's
/// `seq`), or a bounded time has passed: what key revocation, agent disabling and token
/// revocation answer after. The registry is read from the store, so verifiers following any node
/// count, and the CLI waits the same way as the server.
///
/// The guarantee this gives (docs/revocation.md): a verifier that is live and acknowledged has
/// applied the event; one that is not live has not heard from the feed for longer than its own
/// bound, so it no longer trusts what it cached. So once `pending` is empty no verifier accepts a
/// revoked API key from its cache.
public struct RevocationConfirmation: Sendable {
    let store: any AgentAuthStore
    /// The longest a change waits for its acknowledgements.
    public let timeout: Duration
    /// How often the registry is read while waiting: the acknowledgement of a verifier of another
    /// node reaches this one through the store only.
    let interval: Duration
    let now: @Sendable () -> Date

    public init(
        store: any AgentAuthStore,
        timeout: Duration = .seconds(2),
        interval: Duration = .milliseconds(5),
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.store = store
        self.timeout = timeout
        self.interval = interval
        self.now = now
    }

    /// Waits for the latest event in the store now (the change just made, or a later one).
    public func waitForVerifiers() async -> RevocationPropagation {
        guard let latest = try? await store.latestStoredRevocation() else {
            return RevocationPropagation(confirmed: 0, pending: [], waited: .zero)
        }
        return await waitForVerifiers(through: latest)
    }

    /// Waits until the live verifiers' cursors reach `seq`, or `timeout`. A verifier that becomes
    /// stale while it is waited for stops being waited for (it stops trusting its cache itself).
    /// Store failures while waiting are retried until the timeout; the last registry read decides.
    public func waitForVerifiers(through seq: Int64) async -> RevocationPropagation {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + timeout
        var last = RevocationPropagation(confirmed: 0, pending: [], waited: .zero)
        while true {
            let now = self.now()
            // Only those that can be live: a bound is at most `goneAfter`, and gone rows stay a week.
            if let verifiers = try? await store.verifiers(seenSince: now.addingTimeInterval(-Verifier.goneAfter)) {
                let live = verifiers.filter { $0.status(at: now) == .live }
                let pending = live.filter { $0.cursor < seq }.map(\.id).sorted()
                last = RevocationPropagation(confirmed: live.count - pending.count, pending: pending, waited: clock.now - start)
                if pending.isEmpty { return last }
            }
            guard clock.now < deadline, !Task.isCancelled else { break }
            try? await Task.sleep(until: min(clock.now + interval, deadline), clock: clock)
        }
        last.waited = clock.now - start
        return last
    }
}
