/// Everything a verifier needs to enforce rate limits and quotas: the tiers, who is assigned
/// what (only agents, keys and clients with an assignment), and which quotas are used up. Served
/// to verifiers at `GET /oauth/limits`, refetched whenever the revocation feed says limits changed.
public struct LimitsSnapshot: Hashable, Sendable, Codable {
    public var tiers: [String: RateLimitTier]
    /// By agent id, API-key id and client id.
    public var agents: [String: LimitAssignment]
    public var keys: [String: LimitAssignment]
    public var clients: [String: LimitAssignment]
    public var exhausted: [QuotaExhaustion]
    /// The revocation feed's latest `seq` when the snapshot was taken, for people reading it (a
    /// verifier orders snapshots and events by when it fetched and applied them, see `LimitsState`).
    public var cursor: Int64

    public init(
        tiers: [String: RateLimitTier] = [:],
        agents: [String: LimitAssignment] = [:],
        keys: [String: LimitAssignment] = [:],
        clients: [String: LimitAssignment] = [:],
        exhausted: [QuotaExhaustion] = [],
        cursor: Int64 = 0
    ) {
        self.tiers = tiers
        self.agents = agents
        self.keys = keys
        self.clients = clients
        self.exhausted = exhausted
        self.cursor = cursor
    }
}
