public import AgentAuthCore
public import Foundation
public import Hummingbird

/// `GET /admin/agents/{id}/usage`: what an agent used in the current period, as verifiers
/// reported it.
public struct UsageResponse: ResponseEncodable, Sendable {
    public let agentID: String
    public let period: String
    public let since: Date
    public let requests: Int
    public let rateLimited: Int
    /// Requests per API key or OAuth client id.
    public let byCredential: [String: Int]

    public init(_ usage: UsageSummary, period: Quota.Period) {
        agentID = usage.agentID
        self.period = period.rawValue
        since = usage.since
        requests = usage.requests
        rateLimited = usage.rateLimited
        byCredential = usage.byCredential
    }

    enum CodingKeys: String, CodingKey {
        case period, since, requests
        case agentID = "agent_id"
        case rateLimited = "rate_limited"
        case byCredential = "by_credential"
    }
}
