public import AgentAuthCore
import Foundation
public import Hummingbird

/// An audit event as the admin API and the CLI show it.
public struct AuditEventResponse: ResponseEncodable, Sendable {
    public let event: AuditEvent

    public init(_ event: AuditEvent) {
        self.event = event
    }

    enum CodingKeys: String, CodingKey {
        case seq, time, type, outcome, details, hash
        case agentID = "agent_id"
        case credentialID = "credential_id"
        case clientAddress = "client_address"
        case requestID = "request_id"
        case previousHash = "previous_hash"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(event.seq, forKey: .seq)
        try container.encode(event.time, forKey: .time)
        try container.encode(event.type, forKey: .type)
        try container.encode(event.agentID, forKey: .agentID)
        try container.encode(event.credentialID, forKey: .credentialID)
        try container.encode(event.clientAddress, forKey: .clientAddress)
        try container.encode(event.requestID, forKey: .requestID)
        try container.encode(event.outcome.rawValue, forKey: .outcome)
        try container.encode(event.details, forKey: .details)
        try container.encode(event.previousHash, forKey: .previousHash)
        try container.encode(event.hash, forKey: .hash)
    }
}

public struct AuditListResponse: ResponseEncodable, Sendable {
    public let events: [AuditEventResponse]

    public init(_ events: [AuditEvent]) {
        self.events = events.map(AuditEventResponse.init)
    }
}
