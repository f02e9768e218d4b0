public import Foundation

/// The registered verifiers as an operator sees them: each with its status and how far behind
/// the feed it is (`GET /admin/verifiers`, `agentauth verifiers`).
public struct VerifierRegistry: Sendable {
    /// A verifier, its status and its lag at one moment.
    public struct Standing: Sendable, Hashable {
        public var verifier: Verifier
        public var status: Verifier.Status
        /// How long ago the oldest event it has not acknowledged happened; zero when it has
        /// acknowledged every event.
        public var lag: Duration
    }

    let store: any AgentAuthStore
    let now: @Sendable () -> Date

    public init(store: any AgentAuthStore, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.now = now
    }

    /// Every registered verifier, by first contact.
    public func standings() async throws -> [Standing] {
        let verifiers = try await store.verifiers()
        let latest = try await store.revocationBounds().latest
        let now = self.now()
        // One read per distinct cursor behind the feed's end, not per verifier: followers that
        // keep up share the latest cursor.
        var oldestUnacknowledged: [Int64: Date] = [:]
        for cursor in Set(verifiers.map(\.cursor)) where cursor < latest {
            // A signing key's event is dated at its hand-over, which may lie ahead.
            oldestUnacknowledged[cursor] = try await store.revocations(after: cursor, limit: 1).first.map { min($0.at, now) }
        }
        return verifiers.map { verifier in
            let lag = oldestUnacknowledged[verifier.cursor].map { now.timeIntervalSince($0) } ?? 0
            return Standing(verifier: verifier, status: verifier.status(at: now), lag: .milliseconds(Int(max(lag, 0) * 1000)))
        }
    }
}
