/// A batch of request counts a verifier reports to the auth server (`POST /oauth/usage`). The
/// batch id makes it idempotent: a report sent again (after a lost answer) is not counted twice.
public struct UsageReport: Hashable, Sendable, Codable {
    public struct Count: Hashable, Sendable, Codable {
        public var agentID: String
        /// The API key id or OAuth client id the requests were made with.
        public var credentialID: String
        /// Requests served (any status but a rate-limit or quota 429).
        public var requests: Int
        /// Requests refused with 429 by a rate limit or a used-up quota.
        public var rateLimited: Int

        public init(agentID: String, credentialID: String, requests: Int, rateLimited: Int) {
            self.agentID = agentID
            self.credentialID = credentialID
            self.requests = requests
            self.rateLimited = rateLimited
        }

        enum CodingKeys: String, CodingKey {
            case agentID = "agent_id"
            case credentialID = "credential_id"
            case requests
            case rateLimited = "rate_limited"
        }
    }

    /// Unique per batch (a UUID): the idempotency key.
    public var batchID: String
    public var counts: [Count]

    public init(batchID: String, counts: [Count]) {
        self.batchID = batchID
        self.counts = counts
    }

    enum CodingKeys: String, CodingKey {
        case batchID = "batch_id"
        case counts
    }

    /// Bounds on what one report may hold: 500 counts fit the auth server's 64 KiB body limit.
    public static let maxCounts = 500
    public static let maxBatchIDLength = 64
}
