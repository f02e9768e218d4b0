public import AgentAuthCore
public import Foundation
public import Hummingbird

/// A registered verifier as the admin API shows it.
public struct VerifierResponse: ResponseEncodable, Sendable {
    public let id: String
    public let name: String
    public let agentID: String
    public let cursor: Int64
    public let lagMilliseconds: Int
    public let lastSeen: Date
    public let boundMilliseconds: Int
    public let status: String

    public init(_ standing: VerifierRegistry.Standing) {
        id = standing.verifier.id
        name = standing.verifier.name
        agentID = standing.verifier.agentID
        cursor = standing.verifier.cursor
        lagMilliseconds = Int(standing.lag / .milliseconds(1))
        lastSeen = standing.verifier.lastSeen
        boundMilliseconds = standing.verifier.boundMilliseconds
        status = standing.status.rawValue
    }

    enum CodingKeys: String, CodingKey {
        case id, name, cursor, status
        case agentID = "agent_id"
        case lagMilliseconds = "lag_ms"
        case lastSeen = "last_seen"
        case boundMilliseconds = "bound_ms"
    }
}

/// `GET /admin/verifiers`.
public struct VerifierListResponse: ResponseEncodable, Sendable {
    public let verifiers: [VerifierResponse]

    public init(_ standings: [VerifierRegistry.Standing]) {
        verifiers = standings.map(VerifierResponse.init)
    }
}
