public import AgentAuthCore
public import Foundation
public import Hummingbird

/// An agent as the admin API shows it.
public struct AgentResponse: ResponseEncodable, Sendable {
    public let id: String
    public let name: String
    public let status: String
    public let createdAt: Date
    public let disabledAt: Date?
    /// The agent's tier and quota; `null` in the JSON when none.
    public let rateLimit: String?
    public let quota: Quota?
    /// On a disable: how far it reached the verifiers.
    public var propagation: RevocationPropagation?

    public init(_ agent: Agent, propagation: RevocationPropagation? = nil) {
        self.propagation = propagation
        id = agent.id
        name = agent.name
        status = agent.status.rawValue
        createdAt = agent.createdAt
        disabledAt = agent.disabledAt
        rateLimit = agent.rateLimit
        quota = agent.quota
    }

    enum CodingKeys: String, CodingKey {
        case id, name, status, quota, propagation
        case createdAt = "created_at"
        case disabledAt = "disabled_at"
        case rateLimit = "rate_limit"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(status, forKey: .status)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encodeIfPresent(disabledAt, forKey: .disabledAt)
        try container.encode(rateLimit, forKey: .rateLimit)
        try container.encode(quota, forKey: .quota)
        try container.encodeIfPresent(propagation, forKey: .propagation)
    }
}

public struct AgentListResponse: ResponseEncodable, Sendable {
    public let agents: [AgentResponse]
}

extension AgentListResponse {
    public init(_ agents: [Agent]) {
        self.agents = agents.map { AgentResponse($0) }
    }
}
