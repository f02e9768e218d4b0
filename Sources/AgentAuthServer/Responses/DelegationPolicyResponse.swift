public import Hummingbird

/// An agent's delegation policy as the admin API and the CLI show it; `may_act` is `null`
/// when any agent may act for it.
public struct DelegationPolicyResponse: ResponseEncodable, Sendable {
    public let agentID: String
    public let mayAct: [String]?

    public init(agentID: String, mayAct: [String]?) {
        self.agentID = agentID
        self.mayAct = mayAct
    }

    enum CodingKeys: String, CodingKey {
        case agentID = "agent_id"
        case mayAct = "may_act"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(agentID, forKey: .agentID)
        try container.encode(mayAct, forKey: .mayAct)
    }
}
