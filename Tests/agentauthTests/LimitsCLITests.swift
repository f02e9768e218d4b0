import Foundation
import Testing

@Suite("agentauth CLI: rate limits, quotas, updates and client status")
struct LimitsCLITests {
    @Test("rate-limits set, list, show, delete; agents, keys and clients with tiers and quotas, updated; usage")
    func limitsEndToEnd() async throws {
        try await withTemporaryDirectory { directory in
            #expect(try await Binaries.agentauth(["init", "--json"], in: directory).status == 0)

            let set = try await Binaries.agentauth(
                ["rate-limits", "set", "gold", "--requests", "100", "--window-seconds", "60", "--burst", "10", "--json"],
                in: directory
            )
            #expect(set.status == 0, "\(set.stderr)")
            #expect(set.json["name"] as? String == "gold" && set.json["requests"] as? Int == 100 && set.json["burst"] as? Int == 10)
            let list = try await Binaries.agentauth(["rate-limits", "list", "--json"], in: directory)
            #expect((list.json["rate_limits"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["gold", "high", "low", "standard"])
            let table = try await Binaries.agentauth(["rate-limits", "list"], in: directory)
            #expect(table.stdout.hasPrefix("NAME") && table.stdout.contains("gold"))

            let agent = try await Binaries.agentauth(
                ["agents", "create", "billing", "--rate-limit", "gold", "--quota", "1000", "--quota-period", "month", "--json"],
                in: directory
            )
            #expect(agent.status == 0, "\(agent.stderr)")
            let agentID = try #require(agent.json["id"] as? String)
            #expect(agent.json["rate_limit"] as? String == "gold")
            #expect(quotaText(agent.json["quota"]) == "1000/month")

            let inUse = try await Binaries.agentauth(["rate-limits", "delete", "gold"], in: directory)
            #expect(inUse.status == 1, "a tier in use is not deleted")

            let updated = try await Binaries.agentauth(
                ["agents", "update", agentID, "--name", "billing v2", "--no-rate-limit", "--json"],
                in: directory
            )
            #expect(updated.status == 0, "\(updated.stderr)")
            #expect(updated.json["name"] as? String == "billing v2")
            #expect(updated.json["rate_limit"] is NSNull)
            #expect(quotaText(updated.json["quota"]) == "1000/month", "what is not given is kept")
            let noQuota = try await Binaries.agentauth(["agents", "update", agentID, "--no-quota", "--json"], in: directory)
            #expect(noQuota.json["quota"] is NSNull)

            let key = try await Binaries.agentauth(
                ["keys", "create", agentID, "--scope", "a b", "--quota", "50", "--json"],
                in: directory
            )
            #expect(key.status == 0, "\(key.stderr)")
            #expect(quotaText(key.json["quota"]) == "50/day", "the period defaults to a day")
            #expect(key.json["rate_limit"] is NSNull)
            let keyID = try #require(key.json["id"] as? String)
            let narrowed = try await Binaries.agentauth(
                ["keys", "update", keyID, "--scope", "a", "--rate-limit", "gold", "--no-quota", "--name", "ci", "--json"],
                in: directory
            )
            #expect(narrowed.status == 0, "\(narrowed.stderr)")
            #expect(narrowed.json["scopes"] as? [String] == ["a"] && narrowed.json["rate_limit"] as? String == "gold")
            #expect(narrowed.json["quota"] is NSNull && narrowed.json["name"] as? String == "ci")

            let client = try await Binaries.agentauth(
                ["clients", "create", agentID, "--scope", "a b", "--name", "Nightly", "--rate-limit", "low", "--json"],
                in: directory
            )
            #expect(client.status == 0, "\(client.stderr)")
            #expect(client.json["client_name"] as? String == "Nightly" && client.json["rate_limit"] as? String == "low")
            let clientID = try #require(client.json["client_id"] as? String)
            let clientUpdated = try await Binaries.agentauth(["clients", "update", clientID, "--scope", "b", "--no-name", "--json"], in: directory)
            #expect(clientUpdated.status == 0, "\(clientUpdated.stderr)")
            #expect(clientUpdated.json["scope"] as? String == "b" && clientUpdated.json["client_name"] is NSNull)
            #expect(clientUpdated.json["rate_limit"] as? String == "low")

            let usage = try await Binaries.agentauth(["usage", agentID, "--period", "hour", "--json"], in: directory)
            #expect(usage.status == 0, "\(usage.stderr)")
            #expect(usage.json["agent_id"] as? String == agentID && usage.json["period"] as? String == "hour" && usage.json["requests"] as? Int == 0)
            let usageTable = try await Binaries.agentauth(["usage", agentID], in: directory)
            #expect(usageTable.stdout.contains("0 requests") && usageTable.stdout.contains("this day"))

            _ = try await Binaries.agentauth(["keys", "update", keyID, "--no-rate-limit"], in: directory)
            let deleted = try await Binaries.agentauth(["rate-limits", "delete", "gold"], in: directory)
            #expect(deleted.status == 0, "\(deleted.stderr)")
            #expect(deleted.stdout.contains("Deleted rate limit gold"))

            let audit = try await Binaries.agentauth(["audit", "--json", "--limit", "1000"], in: directory)
            let events = try #require(audit.json["events"] as? [[String: Any]])
            for type in ["rate_limit.set", "rate_limit.deleted", "agent.updated", "key.updated", "client.updated"] {
                let event = events.first { $0["type"] as? String == type }
                #expect((event?["details"] as? [String: String])?["via"] == "cli", "\(type) recorded via cli")
            }
        }
    }

    @Test("clients disable, enable and delete, audited via cli")
    func clientStatus() async throws {
        try await withTemporaryDirectory { directory in
            #expect(try await Binaries.agentauth(["init", "--json"], in: directory).status == 0)
            let agentID = try #require(try await Binaries.agentauth(["agents", "create", "x", "--json"], in: directory).json["id"] as? String)
            let clientID = try #require(
                try await Binaries.agentauth(["clients", "create", agentID, "--scope", "a", "--json"], in: directory).json["client_id"] as? String
            )
            let disabled = try await Binaries.agentauth(["clients", "disable", clientID, "--json"], in: directory)
            #expect(disabled.status == 0, "\(disabled.stderr)")
            #expect(disabled.json["status"] as? String == "disabled" && disabled.json["disabled_at"] is String)
            let enabled = try await Binaries.agentauth(["clients", "enable", clientID, "--json"], in: directory)
            #expect(enabled.json["status"] as? String == "active")
            let deleted = try await Binaries.agentauth(["clients", "delete", clientID, "--json"], in: directory)
            #expect(deleted.status == 0, "\(deleted.stderr)")
            #expect(deleted.json["deleted"] as? String == clientID)
            let gone = try await Binaries.agentauth(["clients", "show", clientID], in: directory)
            #expect(gone.status == 1 && gone.stderr.contains("no such client"))

            let audit = try await Binaries.agentauth(["audit", "--json", "--agent", agentID], in: directory)
            let events = try #require(audit.json["events"] as? [[String: Any]])
            #expect(
                Array(events.compactMap { $0["type"] as? String }.prefix(3)) == ["client.deleted", "client.enabled", "client.disabled"]
            )
            #expect(events.prefix(3).allSatisfy { ($0["details"] as? [String: String])?["via"] == "cli" })
        }
    }

    @Test("bad limit options and requests are clear errors that change nothing")
    func errors() async throws {
        try await withTemporaryDirectory { directory in
            #expect(try await Binaries.agentauth(["init", "--json"], in: directory).status == 0)
            let agentID = try #require(try await Binaries.agentauth(["agents", "create", "x", "--json"], in: directory).json["id"] as? String)
            let keyID = try #require(
                try await Binaries.agentauth(["keys", "create", agentID, "--scope", "a", "--json"], in: directory).json["id"] as? String
            )
            let clientID = try #require(
                try await Binaries.agentauth(["clients", "create", agentID, "--scope", "a", "--json"], in: directory).json["client_id"] as? String
            )
            let cases: [(arguments: [String], message: String)] = [
                (["rate-limits", "set", "unlimited", "--requests", "1", "--window-seconds", "1"], "reserved"),
                (["rate-limits", "set", "gold", "--requests", "0", "--window-seconds", "1"], "requests must be between"),
                (["rate-limits", "set", "gold", "--requests", "5", "--window-seconds", "0"], "window_seconds must be between"),
                (["rate-limits", "set", "gold", "--requests", "5", "--window-seconds", "5", "--burst", "0"], "burst must be between"),
                (["rate-limits", "set", "gold", "--window-seconds", "5"], "--requests"),
                (["agents", "create", "y", "--quota-period", "day"], "--quota-period needs --quota"),
                (["agents", "create", "y", "--quota", "5", "--quota-period", "week"], "--quota-period must be one of"),
                (["agents", "create", "y", "--quota", "0"], "quota.requests must be between"),
                (["agents", "create", "y", "--rate-limit", "bad tier"], "rate_limit"),
                (["agents", "update", agentID, "--rate-limit", "low", "--no-rate-limit"], "use one of --rate-limit, --no-rate-limit"),
                (["agents", "update", agentID, "--quota", "5", "--no-quota"], "use one of --quota, --no-quota"),
                (["agents", "update", agentID, "--name", ""], "name must be"),
                (["agents", "update", "agt_00000000000000000000", "--name", "z"], "no such agent"),
                (["keys", "update", keyID, "--scope", "a admin"], "narrowed"),
                (["keys", "update", keyID, "--name", "n", "--no-name"], "use one of --name, --no-name"),
                (["clients", "update", clientID, "--scope", "b"], "narrowed"),
                (["clients", "disable", "no-such-client"], "no such client"),
                (["clients", "delete", "no-such-client"], "no such client"),
                (["usage", agentID, "--period", "week"], "--period must be one of"),
                (["usage", "agt_00000000000000000000"], "no such agent"),
            ]
            for (arguments, message) in cases {
                let result = try await Binaries.agentauth(arguments, in: directory)
                #expect(result.status != 0, "\(arguments) must fail")
                #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            }
            let agents = try await Binaries.agentauth(["agents", "list", "--json"], in: directory)
            #expect((agents.json["agents"] as? [Any])?.count == 2, "no refused create stored an agent")
        }
    }
}

/// A response's quota object as `"N/period"`, `nil` when it is not one.
private func quotaText(_ value: Any?) -> String? {
    guard let object = value as? [String: Any], let requests = object["requests"] as? Int, let period = object["period"] as? String else {
        return nil
    }
    return "\(requests)/\(period)"
}
