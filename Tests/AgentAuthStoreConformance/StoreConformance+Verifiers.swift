import AgentAuthCore
import Foundation

/// The verifier registry, and revoking a client's tokens.
extension StoreConformance {
    static let verifierCases: [StoreConformanceCase] = [
        .init(
            description: "a verifier's poll registers it, a later one moves its cursor and contact, keeping its first contact",
            body: verifierPolls
        ),
        .init(description: "an agent's verifiers that are not gone are capped; known ones still poll; gone ones don't count", body: verifierLimit),
        .init(description: "verifiers are listed from a time of last contact, and forgotten before one", body: verifierForgetting),
        .init(description: "an instance id is its first agent's: another agent's poll with it changes nothing", body: verifierOwnership),
        .init(description: "a verifier that leaves is removed, by its own agent only", body: verifierRemoval),
        .init(description: "an instance id registered to one agent is refused to another, and its entry is left as it was", body: verifierIDOwner),
        .init(description: "revoking a client's tokens appends a client event and keeps the client as it was", body: clientTokenRevocation),
    ]

    static func verifier(_ id: String, agent: String = "agt_v", cursor: Int64 = 0, at seconds: Double, bound: Int = 15_000) -> Verifier {
        Verifier(
            id: id,
            name: "host-\(id)",
            agentID: agent,
            cursor: cursor,
            lastSeen: time(seconds),
            firstSeen: time(seconds),
            boundMilliseconds: bound
        )
    }

    static func verifierPolls(_ store: any AgentAuthStore) async throws {
        try expect(try await store.verifiers().isEmpty, "no verifier before any poll")
        try expect(try await store.recordVerifierPoll(verifier("vfr_b", at: 10), limitPerAgent: 10) == .recorded, "registered")
        try expect(
            try await store.recordVerifierPoll(verifier("vfr_a", cursor: 3, at: 20, bound: 2_000), limitPerAgent: 10) == .recorded,
            "registered"
        )
        var later = verifier("vfr_b", cursor: 7, at: 30, bound: 5_000)
        later.name = "renamed"
        try expect(try await store.recordVerifierPoll(later, limitPerAgent: 10) == .recorded, "a known verifier polls again")
        let listed = try await store.verifiers()
        try expect(listed.map(\.id) == ["vfr_b", "vfr_a"], "by first contact: \(listed.map(\.id))")
        let expected = Verifier(
            id: "vfr_b",
            name: "renamed",
            agentID: "agt_v",
            cursor: 7,
            lastSeen: time(30),
            firstSeen: time(10),
            boundMilliseconds: 5_000
        )
        try expect(listed[0] == expected, "cursor, name, bound and last contact updated, first contact kept: \(listed[0])")
        try expect(listed[1].cursor == 3 && listed[1].boundMilliseconds == 2_000, "the other unchanged: \(listed[1])")
        try expect(listed[0].status(at: time(34)) == .live && listed[0].status(at: time(36)) == .stale, "live within its bound")
        try expect(listed[0].status(at: time(30 + Verifier.goneAfter + 1)) == .gone, "gone after an hour")
        // Back to 0 after a feed reset: the latest poll says what it has applied.
        try expect(try await store.recordVerifierPoll(verifier("vfr_b", cursor: 0, at: 40), limitPerAgent: 10) == .recorded, "a reset follower")
        try expect(try await store.verifiers().first { $0.id == "vfr_b" }?.cursor == 0, "the cursor follows the latest poll")
    }

    static func verifierLimit(_ store: any AgentAuthStore) async throws {
        for index in 0..<3 {
            try expect(
                try await store.recordVerifierPoll(verifier("vfr_\(index)", at: 100), limitPerAgent: 3) == .recorded,
                "under the cap: \(index)"
            )
        }
        try expect(try await store.recordVerifierPoll(verifier("vfr_new", at: 110), limitPerAgent: 3) == .limitReached, "a fourth is refused")
        try expect(try await store.verifiers().count == 3, "nothing written for the refused one")
        try expect(
            try await store.recordVerifierPoll(verifier("vfr_1", cursor: 5, at: 120), limitPerAgent: 3) == .recorded,
            "a known one still polls"
        )
        try expect(try await store.recordVerifierPoll(verifier("vfr_other", agent: "agt_w", at: 120), limitPerAgent: 3) == .recorded, "per agent")
        // An hour and ten seconds on, vfr_0 and vfr_2 (seen at 100) are gone; vfr_1 (seen at 120) is not.
        let later = 100 + Verifier.goneAfter + 10
        try expect(try await store.recordVerifierPoll(verifier("vfr_next", at: later), limitPerAgent: 3) == .recorded, "gone ones no longer count")
        try expect(try await store.recordVerifierPoll(verifier("vfr_last", at: later), limitPerAgent: 3) == .recorded, "two count: vfr_1, vfr_next")
        try expect(try await store.recordVerifierPoll(verifier("vfr_more", at: later), limitPerAgent: 3) == .limitReached, "three count: refused")
    }

    static func verifierIDOwner(_ store: any AgentAuthStore) async throws {
        try expect(
            try await store.recordVerifierPoll(verifier("vfr_a", agent: "agt_v", cursor: 2, at: 10), limitPerAgent: 10) == .recorded,
            "registered"
        )
        let spoofed = verifier("vfr_a", agent: "agt_w", cursor: 9, at: 11, bound: 100)
        try expect(try await store.recordVerifierPoll(spoofed, limitPerAgent: 10) == .idTaken, "another agent's poll under the id")
        let entry = try await store.verifiers().first { $0.id == "vfr_a" }
        try expect(entry?.agentID == "agt_v" && entry?.cursor == 2 && entry?.boundMilliseconds == 15_000, "unchanged: \(String(describing: entry))")
        try expect(entry?.lastSeen == time(10), "its contact unchanged")
    }

    static func verifierForgetting(_ store: any AgentAuthStore) async throws {
        _ = try await store.recordVerifierPoll(verifier("vfr_old", at: 10), limitPerAgent: 10)
        _ = try await store.recordVerifierPoll(verifier("vfr_new", at: 50), limitPerAgent: 10)
        try expect(try await store.verifiers(seenSince: time(50)).map(\.id) == ["vfr_new"], "listed from a time: only those seen since")
        try expect(try await store.verifiers(seenSince: nil).count == 2, "all without one")
        try await store.forgetVerifiers(lastSeenBefore: time(50))
        try expect(try await store.verifiers().map(\.id) == ["vfr_new"], "only the one seen at or after the time stays")
    }

    static func verifierOwnership(_ store: any AgentAuthStore) async throws {
        try expect(try await store.recordVerifierPoll(verifier("vfr_mine", cursor: 2, at: 10), limitPerAgent: 10) == .recorded, "registered")
        let outcome = try await store.recordVerifierPoll(verifier("vfr_mine", agent: "agt_other", cursor: 99, at: 20), limitPerAgent: 10)
        try expect(outcome == .idTaken, "another agent's poll with the id: \(outcome)")
        let stored = try await store.verifiers()
        try expect(
            stored.count == 1 && stored[0].agentID == "agt_v" && stored[0].cursor == 2 && stored[0].lastSeen == time(10),
            "unchanged: \(stored)"
        )
    }

    static func verifierRemoval(_ store: any AgentAuthStore) async throws {
        _ = try await store.recordVerifierPoll(verifier("vfr_leaving", at: 10), limitPerAgent: 10)
        try expect(try await store.removeVerifier(id: "vfr_leaving", agentID: "agt_other") == false, "not by another agent")
        try expect(try await store.verifiers().count == 1, "still there")
        try expect(try await store.removeVerifier(id: "vfr_leaving", agentID: "agt_v"), "by its own")
        try expect(try await store.verifiers().isEmpty, "gone")
        try expect(try await store.removeVerifier(id: "vfr_leaving", agentID: "agt_v") == false, "nothing left to remove")
    }

    static func clientTokenRevocation(_ store: any AgentAuthStore) async throws {
        let agent = makeAgent()
        try await store.insertAgent(agent)
        let client = makeClient(agentID: agent.id)
        try await store.insertClient(client)
        let cursor = try await store.revocationBounds().latest
        let returned = try await store.revokeClientTokens(id: client.clientID, at: time(500), audit: nil)
        try expect(returned?.clientID == client.clientID && returned?.status == .active, "the client, still active")
        let events = try await feed(after: cursor, store)
        try expect(events.count == 1, "one event: \(events)")
        try expect(
            events[0].kind == .client && events[0].subject == client.clientID && events[0].agentID == agent.id && events[0].at == time(500),
            "a client watermark at the time: \(events[0])"
        )
        try expect(try await store.client(id: client.clientID)?.status == .active, "the stored client is unchanged")
        try expect(try await store.revokeClientTokens(id: "cli_none", at: time(600), audit: nil) == nil, "no such client: nil")
        try expect(try await feed(after: events[0].seq, store).isEmpty, "and no event for it")
    }
}
