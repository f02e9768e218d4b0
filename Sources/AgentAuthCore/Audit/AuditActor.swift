public import Foundation

/// Who makes an admin change and through what (the admin API, the CLI, `/oauth/revoke`), with
/// the key of the audit chain: what an administration service needs to write a change's audit
/// event in the change's own transaction.
public struct AuditActor: Sendable {
    /// The caller's agent and credential (`nil` for the CLI, which works on the database directly).
    public var agentID: String?
    public var credentialID: String?
    /// `api`, `cli`, `oauth/revoke`, …: recorded as the event's `via` detail.
    public var via: String
    public var clientAddress: String?
    public var requestID: String?
    public let chainKey: AuditChainKey

    public init(
        agentID: String? = nil,
        credentialID: String? = nil,
        via: String,
        clientAddress: String? = nil,
        requestID: String? = nil,
        chainKey: AuditChainKey
    ) {
        self.agentID = agentID
        self.credentialID = credentialID
        self.via = via
        self.clientAddress = clientAddress
        self.requestID = requestID
        self.chainKey = chainKey
    }

    /// The command line: address `cli`, no calling credential.
    public static func commandLine(chainKey: AuditChainKey) -> AuditActor {
        AuditActor(via: "cli", clientAddress: "cli", chainKey: chainKey)
    }

    /// The event recording a change this actor made to `agentID`'s `credentialID`, ready to be
    /// stored with the change.
    public func record(
        _ type: AuditEventType,
        agentID: String?,
        credentialID: String?,
        details: [String: String] = [:],
        at time: Date
    ) -> AuditRecord {
        var details = details
        details["via"] = via
        if let actor = self.agentID { details["actor_agent_id"] = actor }
        if let credential = self.credentialID { details["actor_credential_id"] = credential }
        let event = AuditEvent(
            time: time,
            type: type,
            agentID: agentID,
            credentialID: credentialID,
            clientAddress: clientAddress,
            requestID: requestID,
            details: details
        )
        return AuditRecord(events: [event], key: chainKey)
    }
}

/// Audit events a store appends to the chain in the same transaction as the change they record:
/// stored together with it, or not at all.
public struct AuditRecord: Sendable {
    public var events: [AuditEvent]
    public let key: AuditChainKey

    public init(events: [AuditEvent], key: AuditChainKey) {
        self.events = events
        self.key = key
    }
}
