import AgentAuthCore
import Foundation

/// Removing the audit log's oldest events: the cut, the anchor, and verification of what stays.
extension StoreConformance {
    static let auditRetentionCases: [StoreConformanceCase] = [
        .init(description: "audit pruning removes the oldest events up to the cut, anchors the chain and records itself", body: auditPruning),
        .init(description: "after audit pruning, edits, deletions and a moved or missing anchor are still caught", body: auditTamperingAfterPruning),
        .init(description: "audit pruning with nothing to remove writes nothing", body: auditPruningNothing),
        .init(description: "audit pruning of every event continues the chain from the anchor", body: auditPruningEverything),
        .init(description: "audit pruning concurrent with appends keeps the chain linear", body: auditPruningConcurrently),
    ]

    static let retentionKey = AuditChainKey(masterKey: MasterKey.generate().key)

    /// The initialisation record at `time(0)`, then one event a second.
    static func appendTimedEvents(_ store: any AgentAuthStore, count: Int, from start: Double = 0) async throws {
        let events = (0..<count).map { index in
            AuditEvent(
                time: time(start + Double(index)),
                type: start == 0 && index == 0 ? AuditChain.initializationType : .tokenIssued,
                agentID: "agt_a",
                details: ["n": String(Int(start) + index)]
            )
        }
        try await store.appendAudit(events, key: retentionKey)
    }

    static func auditPruning(_ store: any AgentAuthStore) async throws {
        try await appendTimedEvents(store, count: 10)
        // seq 11 is newer than the cut and seq 12 older: 12 stays while 11 does.
        try await store.appendAudit([AuditEvent(time: time(20), type: .keyCreated), AuditEvent(time: time(3), type: .keyRevoked)], key: retentionKey)
        let before = try await store.auditChain()
        try expect(try await store.auditAnchor() == nil, "no anchor before anything was removed")
        try expect(try await store.auditCut(before: time(5)) == 5, "the cut: the oldest events older than time(5), seq 1–5")

        let removed = try await AuditRetention(store: store, key: retentionKey, batchSize: 2, now: { time(100) })
            .prune(before: time(5), details: ["via": "test"])
        try expect(removed == 5, "five removed, got \(removed)")
        let anchor = AuditAnchor(seq: 5, hash: before[4].hash)
        try expect(try await store.auditAnchor() == anchor, "the anchor is the last removed event")
        let chain = try await store.auditChain()
        try expect(chain.first?.seq == 6 && chain.first?.previousHash == anchor.hash, "the first kept event follows the anchor")
        try expect(Array(chain.prefix(7)) == Array(before.suffix(7)), "every later event is kept as it was, seq 12 (older than the cut) too")
        try expect(AuditChain.verify(chain, anchor: anchor, key: retentionKey) == nil, "what stays verifies from the anchor")

        let pruned = chain.filter { $0.type == .auditPruned }
        try expect(pruned.map { $0.details["count"] } == ["2", "2", "1"], "one recorded removal per batch of two: \(pruned.map(\.details))")
        try expect(pruned.map { $0.details["anchor_seq"] } == ["2", "4", "5"], "each batch moves the anchor")
        try expect(pruned.last?.details["anchor_hash"] == anchor.hash && pruned.last?.details["via"] == "test", "the last names the anchor")
        try expect(pruned.allSatisfy { $0.time == time(100) && $0.details["before"] != nil }, "at the removal's time, with the cut")

        try expect(try await store.auditChain(after: 6, limit: 2).map(\.seq) == [7, 8], "the chain in pages")
        try expect(try await store.auditEvents(AuditFilter(agentID: "agt_a", limit: 100)).map(\.seq) == Array((6...10).reversed()), "listing")
    }

    static func auditTamperingAfterPruning(_ store: any AgentAuthStore) async throws {
        try await appendTimedEvents(store, count: 8)
        _ = try await AuditRetention(store: store, key: retentionKey).prune(before: time(4))
        let anchor = try await store.auditAnchor()
        let chain = try await store.auditChain()
        try expect(anchor?.seq == 4 && AuditChain.verify(chain, anchor: anchor, key: retentionKey) == nil, "intact after pruning")

        var edited = chain
        edited[1].details["n"] = "changed"
        try expect(AuditChain.verify(edited, anchor: anchor, key: retentionKey) == .edited(seq: 6), "an edited kept event")
        try expect(
            AuditChain.verify(Array(chain.dropFirst()), anchor: anchor, key: retentionKey) == .anchorMismatch(seq: 6),
            "the first kept event deleted"
        )
        var gap = chain
        gap.remove(at: 2)
        try expect(AuditChain.verify(gap, anchor: anchor, key: retentionKey) == .broken(seq: 8), "a kept event deleted")
        // Deleting more of the start and moving the anchor to match: no recorded removal names it.
        let moved = AuditAnchor(seq: chain[0].seq, hash: chain[0].hash)
        try expect(
            AuditChain.verify(Array(chain.dropFirst()), anchor: moved, key: retentionKey) == .anchorUnconfirmed(moved),
            "a moved anchor"
        )
        let edit = AuditAnchor(seq: 4, hash: String(repeating: "a", count: 64))
        try expect(AuditChain.verify(chain, anchor: edit, key: retentionKey) == .anchorMismatch(seq: 5), "an edited anchor")
        try expect(AuditChain.verify(chain, anchor: nil, key: retentionKey) == .missingStart, "the anchor deleted")
        try expect(AuditChain.verify([], anchor: anchor, key: retentionKey) != nil, "every event deleted")
        let otherKey = AuditChainKey(masterKey: MasterKey.generate().key)
        try expect(AuditChain.verify(chain, anchor: anchor, key: otherKey) == .edited(seq: 5), "another master key")
    }

    static func auditPruningNothing(_ store: any AgentAuthStore) async throws {
        try expect(try await store.auditCut(before: time(100)) == nil, "an empty log has no cut")
        try expect(try await store.pruneAudit(through: 10, limit: 10, details: [:], at: time(0), key: retentionKey) == nil, "empty: nothing")
        try await appendTimedEvents(store, count: 3)
        let before = try await store.auditChain()
        try expect(try await store.auditCut(before: time(0)) == nil, "nothing older than the first event")
        try expect(try await AuditRetention(store: store, key: retentionKey).prune(before: time(-10)) == 0, "none removed")
        try expect(try await store.pruneAudit(through: 0, limit: 10, details: [:], at: time(0), key: retentionKey) == nil, "cut at 0")
        try expect(try await store.auditChain() == before, "no event removed or added")
        try expect(try await store.auditAnchor() == nil, "no anchor")
    }

    static func auditPruningEverything(_ store: any AgentAuthStore) async throws {
        try await appendTimedEvents(store, count: 4)
        let last = try await store.auditChain().last!
        try expect(try await store.auditCut(before: time(50)) == 4, "every event is older: the cut is the last")
        try expect(try await AuditRetention(store: store, key: retentionKey).prune(before: time(50)) == 4, "all four removed")
        try await appendTimedEvents(store, count: 2, from: 60)
        let chain = try await store.auditChain()
        let anchor = try await store.auditAnchor()
        try expect(anchor == AuditAnchor(seq: 4, hash: last.hash), "anchored at the last removed event")
        try expect(chain.map(\.seq) == [5, 6, 7] && chain[0].type == .auditPruned, "the removal's record continues the chain: \(chain.map(\.seq))")
        try expect(AuditChain.verify(chain, anchor: anchor, key: retentionKey) == nil, "and verifies from the anchor")
    }

    static func auditPruningConcurrently(_ store: any AgentAuthStore) async throws {
        try await appendTimedEvents(store, count: 300)
        let cut = try await store.auditCut(before: time(250))
        try expect(cut == 250, "the cut")
        let removed = try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask { try await AuditRetention(store: store, key: retentionKey, batchSize: 25).prune(through: 250, details: [:]) }
            // Two writers of ten beside ten batches: enough to interleave, few enough that while the
            // whole suite starts on two cores no append queues behind the lock past the store's 5 s
            // deadline.
            for writer in 0..<2 {
                group.addTask {
                    for index in 0..<10 {
                        let event = AuditEvent(time: time(1000), type: .tokenIssued, details: ["writer": "\(writer)-\(index)"])
                        try await store.appendAudit([event, event], key: retentionKey)
                    }
                    return 0
                }
            }
            return try await group.reduce(0, +)
        }
        try expect(removed == 250, "every event through the cut removed, got \(removed)")
        let chain = try await store.auditChain()
        let anchor = try await store.auditAnchor()
        try expect(anchor?.seq == 250 && chain.first?.seq == 251, "removal stopped at the cut")
        try expect(AuditChain.verify(chain, anchor: anchor, key: retentionKey) == nil, "the chain stays linear")
        try expect(chain.count(where: { $0.details["writer"] != nil }) == 40, "every concurrent append kept")
        try expect(chain.count(where: { $0.type == .auditPruned }) == 10, "one record per batch of 25")
    }
}
