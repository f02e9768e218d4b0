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

    public init(_ agent: Agent) {
        id = agent.id
        name = agent.name
        status = agent.status.rawValue
        createdAt = agent.createdAt
        disabledAt = agent.disabledAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name, status
        case createdAt = "created_at"
        case disabledAt = "disabled_at"
    }
}

public struct AgentListResponse: ResponseEncodable, Sendable {
    public let agents: [AgentResponse]
}

extension AgentListResponse {
    public init(_ agents: [Agent]) {
        self.agents = agents.map(AgentResponse.init)
    }
}
