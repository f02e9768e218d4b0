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
    /// The `seq` of the latest event stored (0 when none): unlike `revocationBounds().latest`,
    /// never a number a failed or conflicting write drew without storing an event, so a follower
    /// that has read the feed to its end has reached it.
    func latestStoredRevocation() async throws -> Int64
    /// Deletes token and quota events that expired before `expiredBefore`, and all but token events older than `olderThan`.
    func pruneRevocations(expiredBefore: Date, olderThan: Date) async throws
}

/// The append-only, hash-chained audit log.
public protocol AuditStore: Sendable {
    /// Appends events after the current last one, linking each into the chain with `key`, in one transaction.
    func appendAudit(_ events: [AuditEvent], key: AuditChainKey) async throws
    /// Events matching the filter, newest first.
    func auditEvents(_ filter: AuditFilter) async throws -> [AuditEvent]
    /// The whole chain kept, oldest first (for verification).
    func auditChain() async throws -> [AuditEvent]
    /// Kept events with `seq` greater than `seq`, oldest first, at most `limit`: the chain in pages.
    func auditChain(after seq: Int64, limit: Int) async throws -> [AuditEvent]
    /// Where the kept chain starts: the last removed event, `nil` while none was ever removed.
    func auditAnchor() async throws -> AuditAnchor?
    /// The furthest a removal of events older than `time` may go: the last of the oldest events
    /// that are all older than `time` (events are removed from the start of the chain only, and
    /// an event is never removed while an older-numbered one stays). `nil` when there is none.
    func auditCut(before time: Date) async throws -> Int64?
    /// In one transaction: removes the oldest kept events up to `through` (inclusive), at most
    /// `limit`, after checking they continue the chain from the anchor intact
    /// (`AuditChain.verifyLinks`; throws `StoreError.conflict`, removing nothing, when not);
    /// moves the anchor to the last one removed; and appends an `audit.pruned` event recording
    /// it (`AuditChain.prunedEvent` with `details`, at `time`). Appends wait meanwhile, so the
    /// chain stays linear. Returns `nil`, writing nothing, when there is nothing to remove.
    func pruneAudit(through seq: Int64, limit: Int, details: [String: String], at time: Date, key: AuditChainKey) async throws -> AuditPruneBatch?
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
