public import Foundation

/// The revocation feed's events, and the audit log.
public protocol RevocationStore: Sendable {
    /// Records a revoked access token (idempotent: revoking twice keeps one entry) and its feed
    /// event, in one transaction. Returns `false` when it was already revoked.
    func revokeToken(jti: String, agentID: String, expiresAt: Date, at: Date, audit: AuditRecord?) async throws -> Bool
    /// Feed events with `seq` greater than `cursor`, oldest first, at most `limit`.
    func revocations(after cursor: Int64, limit: Int) async throws -> [RevocationEvent]
    /// The lowest retained and the highest `seq` (0, 0 when empty).
    func revocationBounds() async throws -> (oldest: Int64, latest: Int64)
    /// Deletes token and quota events that expired before `expiredBefore`, and all but token events older than `olderThan`.
    func pruneRevocations(expiredBefore: Date, olderThan: Date) async throws
}

/// The append-only, hash-chained audit log.
public protocol AuditStore: Sendable {
    /// Appends events after the current last one, linking each into the chain with `key`, in one transaction.
    func appendAudit(_ events: [AuditEvent], key: AuditChainKey) async throws
    /// Events matching the filter, newest first.
    func auditEvents(_ filter: AuditFilter) async throws -> [AuditEvent]
    /// The whole chain, oldest first (for verification).
    func auditChain() async throws -> [AuditEvent]
}

/// Which audit events to list.
public struct AuditFilter: Sendable {
    public var agentID: String?
    public var type: AuditEventType?
    public var since: Date?
    public var limit: Int

    public init(agentID: String? = nil, type: AuditEventType? = nil, since: Date? = nil, limit: Int = 100) {
        self.agentID = agentID
        self.type = type
        self.since = since
        self.limit = limit
    }
}
