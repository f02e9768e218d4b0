public import Foundation
import Synchronization

/// The write side of the audit log: `record` never waits for the database. Events wait in a
/// bounded queue and are written in batches by `flush()` (the server runs it every second and
/// once more at graceful shutdown). Authentication failures are aggregated per type, credential,
/// address and minute, so an attack adds one event a minute instead of one per request.
public final class AuditLog: Sendable {
    struct FailureKey: Hashable {
        let type: AuditEventType
        let reason: String
        let agentID: String?
        let credentialID: String?
        let clientAddress: String?
        let minute: Int64
    }

    struct State {
        var queue: [AuditEvent] = []
        var failures: [FailureKey: (count: Int, reason: String)] = [:]
        var dropped = 0
    }

    let store: any AuditStore
    let key: AuditChainKey
    let capacity: Int
    let now: @Sendable () -> Date
    private let state = Mutex(State())

    public init(store: any AuditStore, key: AuditChainKey, capacity: Int = 10_000, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.key = key
        self.capacity = capacity
        self.now = now
    }

    /// Queues an event. When the queue is full the event is counted as dropped; the count is
    /// itself written as an `audit.dropped` event, so a gap never goes unnoticed.
    public func record(_ event: AuditEvent) {
        state.withLock { state in
            if state.queue.count >= capacity {
                state.dropped += 1
            } else {
                state.queue.append(event)
            }
        }
    }

    /// Counts a failure into its aggregate: one per type, reason, agent, credential, address and
    /// minute. The values are redacted and bounded first (`AuditRedaction`), so an aggregate holds
    /// neither a secret nor more than a few hundred bytes, whatever a caller sent; and callers
    /// pass ids of records that exist, never a presented string, so they can't be varied per request.
    public func recordFailure(type: AuditEventType, agentID: String? = nil, credentialID: String?, clientAddress: String?, reason: String) {
        let minute = Int64(now().timeIntervalSince1970 / 60)
        let key = FailureKey(
            type: type,
            reason: AuditRedaction.redact(reason),
            agentID: AuditRedaction.redact(agentID),
            credentialID: AuditRedaction.redact(credentialID),
            clientAddress: AuditRedaction.redact(clientAddress),
            minute: minute
        )
        state.withLock { state in
            if let current = state.failures[key] {
                state.failures[key] = (current.count + 1, current.reason)
            } else if state.failures.count < capacity {
                state.failures[key] = (1, key.reason)
            } else {
                state.dropped += 1
            }
        }
    }

    public var pendingCount: Int { state.withLock { $0.queue.count + $0.failures.count } }

    /// Writes queued events and the aggregates of finished minutes (all aggregates when
    /// `final`, at shutdown). On failure the batch is put back for the next attempt.
    public func flush(final: Bool = false) async throws {
        let currentMinute = Int64(now().timeIntervalSince1970 / 60)
        let (batch, failures, dropped) = state.withLock { state in
            let batch = state.queue
            let ready = state.failures.filter { final || $0.key.minute < currentMinute }
            for key in ready.keys { state.failures[key] = nil }
            let dropped = state.dropped
            state.queue = []
            state.dropped = 0
            return (batch, ready, dropped)
        }
        var events = batch
        for (key, value) in failures.sorted(by: { $0.key.minute < $1.key.minute }) {
            events.append(
                AuditEvent(
                    time: Date(timeIntervalSince1970: TimeInterval(key.minute * 60)),
                    type: key.type,
                    agentID: key.agentID,
                    credentialID: key.credentialID,
                    clientAddress: key.clientAddress,
                    outcome: .failure,
                    details: ["count": String(value.count), "reason": value.reason, "window": "60s"]
                )
            )
        }
        if dropped > 0 {
            events.append(AuditEvent(time: now(), type: .auditDropped, outcome: .failure, details: ["count": String(dropped)]))
        }
        guard !events.isEmpty else { return }
        do {
            try await store.appendAudit(events, key: key)
        } catch {
            state.withLock { state in
                state.queue.insert(contentsOf: batch, at: 0)
                for (key, value) in failures { state.failures[key] = (value.count + (state.failures[key]?.count ?? 0), value.reason) }
                state.dropped += dropped
            }
            throw error
        }
    }
}
