import AgentAuthCore
import Foundation

/// Usage reports, the quotas they use up, and pruning.
extension StoreConformance {
    static let usageCases: [StoreConformanceCase] = [
        .init(description: "a usage report is counted once, into the hour of its time, per credential", body: usageCounting),
        .init(description: "an agent's quota is used up exactly at its size, once per period, afresh in the next", body: agentQuota),
        .init(description: "a key's quota is used up exactly at its size; rate-limited requests use up nothing", body: keyQuota),
        .init(description: "a changed quota is checked against this period's usage at once", body: quotaChange),
        .init(description: "usage pruning, and feed pruning of client, limits and quota events", body: usagePruning),
    ]

    static func report(_ batchID: String, _ counts: [(agent: String, credential: String, requests: Int, rateLimited: Int)]) -> UsageReport {
        UsageReport(
            batchID: batchID,
            counts: counts.map { .init(agentID: $0.agent, credentialID: $0.credential, requests: $0.requests, rateLimited: $0.rateLimited) }
        )
    }

    static func usageCounting(_ store: any AgentAuthStore) async throws {
        let first = try await store.recordUsage(
            report("b1", [("agt_a", "key_1", 3, 1), ("agt_a", "cli_1", 4, 2), ("agt_a", "key_1", 2, 0), ("agt_b", "key_2", 7, 0)]),
            at: time(10)
        )
        try expect(first == [], "counted, no quota used up")
        let again = try await store.recordUsage(report("b1", [("agt_a", "key_1", 100, 100)]), at: time(20))
        try expect(again == nil, "the same batch id again is not counted")
        let summary = try await store.usage(agentID: "agt_a", since: time(0))
        try expect(
            summary == UsageSummary(agentID: "agt_a", since: time(0), requests: 9, rateLimited: 3, byCredential: ["key_1": 5, "cli_1": 4]),
            "sums per credential, repeated pairs added, the repeated batch ignored: \(summary)"
        )
        try expect(try await store.usage(agentID: "agt_b", since: time(0)).requests == 7, "per agent")

        _ = try await store.recordUsage(report("b2", [("agt_a", "key_1", 1, 0)]), at: time(3599))
        _ = try await store.recordUsage(report("b3", [("agt_a", "key_1", 10, 5)]), at: time(3600))
        let nextHour = try await store.usage(agentID: "agt_a", since: time(3600 + 1800))
        try expect(
            nextHour == UsageSummary(agentID: "agt_a", since: time(3600), requests: 10, rateLimited: 5, byCredential: ["key_1": 10]),
            "since is rounded down to its hour, which holds only that hour's reports: \(nextHour)"
        )
        let both = try await store.usage(agentID: "agt_a", since: time(1800))
        try expect(both.since == time(0) && both.requests == 20 && both.byCredential == ["key_1": 16, "cli_1": 4], "both hours: \(both)")
        let nothing = try await store.usage(agentID: "agt_none", since: time(0))
        try expect(nothing.requests == 0 && nothing.rateLimited == 0 && nothing.byCredential.isEmpty, "an agent without usage")
    }

    static func agentQuota(_ store: any AgentAuthStore) async throws {
        var agent = makeAgent()
        agent.quota = Quota(requests: 10, period: .hour)
        try await store.insertAgent(agent)
        let key = makeKey(agentID: agent.id)
        try await store.insertAPIKey(key)
        let cursor = try await store.revocationBounds().latest

        // Spread over two credentials: the agent's quota counts them all.
        let below = try await store.recordUsage(report("b1", [(agent.id, key.id, 5, 0), (agent.id, "cli_1", 4, 7)]), at: time(100))
        try expect(below == [], "9 of 10: not used up")
        try expect(try await feed(after: cursor, store).isEmpty, "no event below the quota")
        let reached = try await store.recordUsage(report("b2", [(agent.id, "cli_1", 1, 0)]), at: time(200))
        let expected = QuotaExhaustion(subject: agent.id, agentID: agent.id, periodStart: time(0), until: time(3600), quota: 10, used: 10)
        try expect(reached == [expected], "10 of 10: used up, until the hour ends: \(String(describing: reached))")
        let events = try await feed(after: cursor, store)
        try expect(events.count == 1, "one quota event: \(events)")
        try expect(
            events[0].kind == .quota && events[0].subject == agent.id && events[0].agentID == agent.id && events[0].at == time(200)
                && events[0].expiresAt == time(3600),
            "the event names the agent and the period's end: \(events[0])"
        )
        let beyond = try await store.recordUsage(report("b3", [(agent.id, key.id, 50, 0)]), at: time(300))
        try expect(beyond == [], "recorded once per period")
        try expect(try await Self.feed(after: events[0].seq, store).isEmpty, "no second event in the period")
        try expect(try await store.limitsSnapshot(now: time(300)).exhausted == [expected], "the first finding is kept")

        let nextHour = try await store.recordUsage(report("b4", [(agent.id, key.id, 9, 0)]), at: time(3600 + 5))
        try expect(nextHour == [], "a new period starts from zero")
        let nextReached = try await store.recordUsage(report("b5", [(agent.id, key.id, 1, 0)]), at: time(3600 + 6))
        try expect(
            nextReached == [QuotaExhaustion(subject: agent.id, agentID: agent.id, periodStart: time(3600), until: time(7200), quota: 10, used: 10)],
            "used up again in the new period: \(String(describing: nextReached))"
        )
        try expect(try await Self.feed(after: events[0].seq, store).map(\.expiresAt) == [time(7200)], "with its own event")
    }

    static func keyQuota(_ store: any AgentAuthStore) async throws {
        let agent = makeAgent()
        try await store.insertAgent(agent)
        var key = makeKey(agentID: agent.id)
        key.quota = Quota(requests: 5, period: .day)
        try await store.insertAPIKey(key)
        var revoked = makeKey(agentID: agent.id)
        revoked.quota = Quota(requests: 1, period: .day)
        try await store.insertAPIKey(revoked)
        _ = try await store.revokeAPIKey(id: revoked.id, at: time(1))
        let cursor = try await store.revocationBounds().latest

        let limited = try await store.recordUsage(report("b1", [(agent.id, key.id, 0, 1000)]), at: time(10))
        try expect(limited == [], "requests refused with 429 use up nothing")
        let below = try await store.recordUsage(report("b2", [(agent.id, key.id, 4, 0), (agent.id, revoked.id, 3, 0)]), at: time(20))
        try expect(below == [], "4 of 5, and a revoked key's quota is not checked")
        let reached = try await store.recordUsage(report("b3", [(agent.id, key.id, 1, 0)]), at: time(30))
        let dayStart = Quota.Period.day.start(of: time(30))
        let dayEnd = Quota.Period.day.end(of: time(30))
        try expect(
            reached == [QuotaExhaustion(subject: key.id, agentID: agent.id, periodStart: dayStart, until: dayEnd, quota: 5, used: 5)],
            "5 of 5: the key's quota is used up until the day ends: \(String(describing: reached))"
        )
        let events = try await feed(after: cursor, store)
        try expect(
            events.map(\.kind) == [.quota] && events[0].subject == key.id && events[0].agentID == agent.id && events[0].expiresAt == dayEnd,
            "a quota event for the key: \(events)"
        )
    }

    static func quotaChange(_ store: any AgentAuthStore) async throws {
        var agent = makeAgent()
        agent.quota = Quota(requests: 10, period: .hour)
        try await store.insertAgent(agent)
        var key = makeKey(agentID: agent.id)
        try await store.insertAPIKey(key)
        _ = try await store.recordUsage(report("b1", [(agent.id, key.id, 10, 0)]), at: time(100))
        try expect(try await store.limitsSnapshot(now: time(100)).exhausted.map(\.subject) == [agent.id], "used up")

        var cursor = try await store.revocationBounds().latest
        agent.name = "renamed"
        _ = try await store.updateAgent(agent, at: time(150), audit: nil)
        try expect(try await store.limitsSnapshot(now: time(150)).exhausted.map(\.subject) == [agent.id], "an unchanged quota stays used up")

        agent.quota = Quota(requests: 20, period: .hour)
        _ = try await store.updateAgent(agent, at: time(200), audit: nil)
        try expect(try await store.limitsSnapshot(now: time(200)).exhausted.isEmpty, "raised: no longer used up")
        try expect(try await feed(after: cursor, store).map(\.kind) == [.limits, .limits], "limits events only: verifiers refetch")

        cursor = try await store.revocationBounds().latest
        agent.quota = Quota(requests: 8, period: .hour)
        _ = try await store.updateAgent(agent, at: time(300), audit: nil)
        let lowered = QuotaExhaustion(subject: agent.id, agentID: agent.id, periodStart: time(0), until: time(3600), quota: 8, used: 10)
        try expect(try await store.limitsSnapshot(now: time(300)).exhausted == [lowered], "lowered below the usage: used up at once")
        var events = try await feed(after: cursor, store)
        try expect(events.map(\.kind) == [.limits, .quota], "with a quota event: \(events.map(\.kind))")
        try expect(events[1].subject == agent.id && events[1].at == time(300) && events[1].expiresAt == time(3600), "for the agent: \(events[1])")

        agent.quota = nil
        _ = try await store.updateAgent(agent, at: time(350), audit: nil)
        try expect(try await store.limitsSnapshot(now: time(350)).exhausted.isEmpty, "removed: nothing used up")

        cursor = try await store.revocationBounds().latest
        key.quota = Quota(requests: 3, period: .month)
        _ = try await store.updateAPIKey(key, at: time(400), audit: nil)
        let exhausted = try await store.limitsSnapshot(now: time(400)).exhausted
        try expect(exhausted.map(\.subject) == [key.id] && exhausted.first?.used == 10, "a key's new quota below its usage: \(exhausted)")
        events = try await Self.feed(after: cursor, store)
        try expect(events.map(\.kind) == [.apiKey, .limits, .quota], "key, limits and quota events: \(events.map(\.kind))")
        try expect(events[2].expiresAt == Quota.Period.month.end(of: time(400)), "until the month ends")
    }

    static func usagePruning(_ store: any AgentAuthStore) async throws {
        var agent = makeAgent()
        agent.quota = Quota(requests: 1, period: .hour)
        try await store.insertAgent(agent)
        let client = makeClient(agentID: agent.id)
        try await store.insertClient(client)
        _ = try await store.recordUsage(report("old", [(agent.id, "key_1", 1, 0)]), at: time(10))
        _ = try await store.recordUsage(report("new", [(agent.id, "key_1", 2, 0)]), at: time(3600 + 10))
        try await store.pruneUsage(batchesBefore: time(3600), countsBefore: time(3600))
        try expect(try await store.recordUsage(report("old", []), at: time(7200)) != nil, "a pruned batch id is forgotten")
        try expect(try await store.recordUsage(report("new", []), at: time(7200)) == nil, "a kept one is not")
        try expect(try await store.usage(agentID: agent.id, since: time(0)).requests == 2, "the pruned hour's counts are gone")
        let kept = try await store.limitsSnapshot(now: time(0)).exhausted
        try expect(kept.map(\.periodStart) == [time(3600)], "an exhaustion whose period ended before the kept counts goes: \(kept)")

        // The feed: client and limits events go with age, as key and agent events do; quota events
        // also once their period has ended.
        _ = try await store.setClientStatus(id: client.clientID, status: .disabled, at: time(10_000), audit: nil)
        _ = try await store.updateClient(client, at: time(10_001), audit: nil)
        let quotaEvents = try await feed(after: 0, store).filter { $0.kind == .quota }
        try expect(quotaEvents.map(\.expiresAt) == [time(3600), time(7200)], "two quota events: \(quotaEvents)")
        try await store.pruneRevocations(expiredBefore: time(5000), olderThan: time(0))
        let afterExpiry = try await feed(after: 0, store)
        try expect(
            afterExpiry.map(\.kind) == [.quota, .client, .limits] && afterExpiry[0].expiresAt == time(7200),
            "the quota event whose period ended goes: \(afterExpiry.map(\.kind))"
        )
        try await store.pruneRevocations(expiredBefore: time(0), olderThan: time(10_001))
        let afterAge = try await feed(after: 0, store)
        try expect(afterAge.map(\.kind) == [.limits], "older client and quota events go, the newest event stays: \(afterAge.map(\.kind))")
    }
}
