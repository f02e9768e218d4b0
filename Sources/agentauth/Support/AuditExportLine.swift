import AgentAuthCore
import Foundation

/// One event line of `agentauth audit export`: the fields `GET /admin/audit` shows, with the
/// chain's hashes, plus `time_ms`, the time as the chain hashes it (milliseconds since 1970), so
/// that a reader holding the master key can recompute every hash (`audit verify-export`).
struct AuditExportLine: Codable {
    var seq: Int64
    var time: Date
    var timeMS: Int64
    var type: String
    var agentID: String?
    var credentialID: String?
    var clientAddress: String?
    var requestID: String?
    var outcome: String
    var details: [String: String]
    var previousHash: String
    var hash: String

    enum CodingKeys: String, CodingKey {
        case seq, time, type, outcome, details, hash
        case timeMS = "time_ms"
        case agentID = "agent_id"
        case credentialID = "credential_id"
        case clientAddress = "client_address"
        case requestID = "request_id"
        case previousHash = "previous_hash"
    }

    init(_ event: AuditEvent) {
        seq = event.seq
        time = event.time
        timeMS = Int64((event.time.timeIntervalSince1970 * 1000).rounded())
        type = event.type.rawValue
        agentID = event.agentID
        credentialID = event.credentialID
        clientAddress = event.clientAddress
        requestID = event.requestID
        outcome = event.outcome.rawValue
        details = event.details
        previousHash = event.previousHash
        hash = event.hash
    }

    // Every field is written, `null` included, as the admin API writes them.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(seq, forKey: .seq)
        try container.encode(time, forKey: .time)
        try container.encode(timeMS, forKey: .timeMS)
        try container.encode(type, forKey: .type)
        try container.encode(agentID, forKey: .agentID)
        try container.encode(credentialID, forKey: .credentialID)
        try container.encode(clientAddress, forKey: .clientAddress)
        try container.encode(requestID, forKey: .requestID)
        try container.encode(outcome, forKey: .outcome)
        try container.encode(details, forKey: .details)
        try container.encode(previousHash, forKey: .previousHash)
        try container.encode(hash, forKey: .hash)
    }

    /// The event as it was chained (`time_ms` is the time that counts).
    var event: AuditEvent {
        var event = AuditEvent(
            time: Date(timeIntervalSince1970: Double(timeMS) / 1000),
            type: AuditEventType(rawValue: type),
            agentID: agentID,
            credentialID: credentialID,
            clientAddress: clientAddress,
            requestID: requestID,
            outcome: AuditEvent.Outcome(rawValue: outcome) ?? .failure,
            details: details
        )
        event.seq = seq
        event.previousHash = previousHash
        event.hash = hash
        return event
    }
}
