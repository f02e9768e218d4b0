extension UsageReport {
    /// The counts with one entry per agent and credential (a verifier may repeat a pair), ordered
    /// by agent and credential id: stores write them in this order, so that writers on several
    /// nodes take their row locks in the same order and never deadlock.
    public var mergedCounts: [Count] {
        var merged: [CountKey: Count] = [:]
        for count in counts {
            let key = CountKey(agentID: count.agentID, credentialID: count.credentialID)
            if var existing = merged[key] {
                existing.requests += count.requests
                existing.rateLimited += count.rateLimited
                merged[key] = existing
            } else {
                merged[key] = count
            }
        }
        return merged.values.sorted { ($0.agentID, $0.credentialID) < ($1.agentID, $1.credentialID) }
    }
}

private struct CountKey: Hashable {
    var agentID: String
    var credentialID: String
}
