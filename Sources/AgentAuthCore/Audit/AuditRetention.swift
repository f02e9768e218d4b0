public import Foundation

/// Removes the audit log's oldest events in batches, each its own transaction that moves the
/// anchor and records itself (`AuditStore.pruneAudit`): a large backlog never holds one long
/// transaction, or the lock appends wait for, and the kept chain verifies after every batch.
public struct AuditRetention: Sendable {
    /// Events per transaction: a batch holds appends back for well under a second on either engine.
    public static let defaultBatchSize = 1_000

    let store: any AuditStore
    let key: AuditChainKey
    let batchSize: Int
    let now: @Sendable () -> Date

    public init(store: any AuditStore, key: AuditChainKey, batchSize: Int = Self.defaultBatchSize, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.key = key
        self.batchSize = batchSize
        self.now = now
    }

    /// Removes every kept event up to `seq` (inclusive): the cut is a sequence number fixed
    /// before the first batch, so events appended meanwhile are never touched. Returns how
    /// many were removed.
    public func prune(through seq: Int64, details: [String: String]) async throws -> Int {
        var removed = 0
        while let batch = try await store.pruneAudit(through: seq, limit: batchSize, details: details, at: now(), key: key) {
            removed += batch.count
        }
        return removed
    }

    /// Removes the oldest events older than `time` (`AuditStore.auditCut`). Returns how many.
    public func prune(before time: Date, details: [String: String] = [:]) async throws -> Int {
        guard let cut = try await store.auditCut(before: time) else { return 0 }
        var details = details
        details["before"] = time.formatted(.iso8601)
        return try await prune(through: cut, details: details)
    }
}
