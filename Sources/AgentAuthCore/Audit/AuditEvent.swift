public import Foundation

/// One audit-log entry. Never holds a secret: credentials appear by id only.
public struct AuditEvent: Hashable, Sendable {
    public enum Outcome: String, Hashable, Sendable, Codable {
        case success
        case failure
    }

    /// Position in the chain; assigned by the store.
    public var seq: Int64
    public var time: Date
    public var type: AuditEventType
    public var agentID: String?
    public var credentialID: String?
    public var clientAddress: String?
    public var requestID: String?
    public var outcome: Outcome
    /// Small extra facts (`count` for aggregated failures, `reason`, `scope`, …), never secrets.
    public var details: [String: String]
    /// The previous event's hash (64 zeros for the first) and this event's own.
    public var previousHash: String
    public var hash: String

    public init(
        time: Date,
        type: AuditEventType,
        agentID: String? = nil,
        credentialID: String? = nil,
        clientAddress: String? = nil,
        requestID: String? = nil,
        outcome: Outcome = .success,
        details: [String: String] = [:]
    ) {
        self.seq = 0
        self.time = time
        self.type = type
        self.agentID = agentID
        self.credentialID = credentialID
        self.clientAddress = clientAddress
        self.requestID = requestID
        self.outcome = outcome
        self.details = details
        self.previousHash = ""
        self.hash = ""
    }
}
