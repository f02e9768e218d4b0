public import Foundation

/// What an agent used since a time: the `GET /admin/agents/{id}/usage` answer.
public struct UsageSummary: Hashable, Sendable {
    public var agentID: String
    public var since: Date
    public var requests: Int
    public var rateLimited: Int
    /// Requests served per API key or OAuth client id.
    public var byCredential: [String: Int]

    public init(agentID: String, since: Date, requests: Int, rateLimited: Int, byCredential: [String: Int]) {
        self.agentID = agentID
        self.since = since
        self.requests = requests
        self.rateLimited = rateLimited
        self.byCredential = byCredential
    }
}
