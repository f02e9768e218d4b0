import Synchronization

/// Requests counted per agent and credential since the last report, in memory; a verifier
/// reports them to the auth server in batches (`UsageReport`). One entry per credential in use,
/// whatever the request rate.
public final class UsageCounter: Sendable {
    struct Key: Hashable {
        let agentID: String
        let credentialID: String
    }

    private let counts = Mutex<[Key: (requests: Int, rateLimited: Int)]>([:])

    public init() {}

    /// Counts one request: served, or refused by a limit.
    public func count(_ subject: LimitSubject, limited: Bool) {
        let key = Key(agentID: subject.agentID, credentialID: subject.credential.id)
        counts.withLock { counts in
            var entry = counts[key] ?? (0, 0)
            if limited { entry.rateLimited += 1 } else { entry.requests += 1 }
            counts[key] = entry
        }
    }

    /// Everything counted since the last call, which starts counting afresh.
    public func take() -> [UsageReport.Count] {
        let taken = counts.withLock { counts in
            let taken = counts
            counts = [:]
            return taken
        }
        return taken.map {
            UsageReport.Count(
                agentID: $0.key.agentID,
                credentialID: $0.key.credentialID,
                requests: $0.value.requests,
                rateLimited: $0.value.rateLimited
            )
        }
    }
}
