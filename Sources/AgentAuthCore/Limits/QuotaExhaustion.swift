public import Foundation

/// A quota used up for the rest of its period: every verifier answers 429 for `subject` (an agent
/// or key id) until `until`.
public struct QuotaExhaustion: Hashable, Sendable, Codable {
    /// The agent or API key whose quota is used up.
    public var subject: String
    public var agentID: String
    public var periodStart: Date
    /// The period's end: when requests are served again.
    public var until: Date
    /// The quota's size and how many requests were counted when it was found used up.
    public var quota: Int
    public var used: Int

    public init(subject: String, agentID: String, periodStart: Date, until: Date, quota: Int, used: Int) {
        self.subject = subject
        self.agentID = agentID
        self.periodStart = periodStart
        self.until = until
        self.quota = quota
        self.used = used
    }

    enum CodingKeys: String, CodingKey {
        case subject, until, quota, used
        case agentID = "agent_id"
        case periodStart = "period_start"
    }
}
