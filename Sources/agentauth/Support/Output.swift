import AgentAuthCore
import AgentAuthServer
import Foundation

/// Prints command results: the admin API's JSON for scripts, aligned tables for people.
enum Output {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func json(_ value: some Encodable) throws {
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func table(_ header: [String], _ rows: [[String]]) {
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        print(line(header))
        for row in rows { print(line(row)) }
    }

    static func date(_ date: Date?) -> String {
        date.map { $0.formatted(.iso8601) } ?? "-"
    }

    static func agents(_ agents: [Agent], json: Bool) throws {
        if json { return try self.json(AgentListResponse(agents)) }
        table(["ID", "NAME", "STATUS", "CREATED"], agents.map { [$0.id, $0.name, $0.status.rawValue, date($0.createdAt)] })
    }

    static func agent(_ agent: Agent, propagation: RevocationPropagation? = nil, json: Bool) throws {
        if json { return try self.json(AgentResponse(agent, propagation: propagation)) }
        defer { if let propagation { self.propagation(propagation) } }
        table(
            ["ID", "NAME", "STATUS", "CREATED", "DISABLED", "RATE LIMIT", "QUOTA"],
            [
                [
                    agent.id, agent.name, agent.status.rawValue, date(agent.createdAt), date(agent.disabledAt), agent.rateLimit ?? "-",
                    quota(agent.quota),
                ]
            ]
        )
    }

    static func quota(_ quota: Quota?) -> String {
        quota.map { "\($0.requests)/\($0.period.rawValue)" } ?? "-"
    }

    static func rateLimits(_ tiers: [RateLimitTier], json: Bool, single: Bool) throws {
        if json {
            return single ? try self.json(RateLimitTierResponse(tiers[0])) : try self.json(RateLimitTierListResponse(tiers))
        }
        table(
            ["NAME", "REQUESTS", "WINDOW (S)", "BURST"],
            tiers.map { [$0.name, String($0.requests), String($0.windowSeconds), String($0.burst)] }
        )
    }

    static func usage(_ usage: UsageSummary, period: Quota.Period, json: Bool) throws {
        if json { return try self.json(UsageResponse(usage, period: period)) }
        print("\(usage.agentID): \(usage.requests) requests, \(usage.rateLimited) rate-limited, this \(period.rawValue) (since \(date(usage.since)))")
        if !usage.byCredential.isEmpty {
            print("")
            table(["CREDENTIAL", "REQUESTS"], usage.byCredential.sorted { $0.key < $1.key }.map { [$0.key, String($0.value)] })
        }
    }

    /// What a delete command prints: `{"deleted": id}` for scripts.
    static func deleted(_ id: String, what: String, json: Bool) throws {
        if json { return try self.json(["deleted": id]) }
        print("Deleted \(what) \(id).")
    }

    static func keys(_ keys: [APIKey], json: Bool) throws {
        if json { return try self.json(APIKeyListResponse(keys)) }
        table(
            ["ID", "KEY", "SCOPES", "STATUS", "EXPIRES", "LAST USED", "RATE LIMIT", "QUOTA"],
            keys.map {
                [
                    $0.id, $0.display, $0.scopes.description, $0.status.rawValue, date($0.expiresAt), date($0.lastUsedAt), $0.rateLimit ?? "-",
                    quota($0.quota),
                ]
            }
        )
    }

    static func key(_ key: APIKey, propagation: RevocationPropagation? = nil, json: Bool) throws {
        if json { return try self.json(APIKeyResponse(key, propagation: propagation)) }
        try keys([key], json: false)
        if let propagation { self.propagation(propagation) }
    }

    /// How far a revocation reached the verifiers.
    static func propagation(_ propagation: RevocationPropagation) {
        let confirmed =
            "Confirmed by \(propagation.confirmed) live verifier\(propagation.confirmed == 1 ? "" : "s") in \(propagation.waitedMilliseconds) ms"
        print(
            "\n"
                + (propagation.pending.isEmpty
                    ? confirmed + "." : confirmed + "; not acknowledged by: " + propagation.pending.joined(separator: ", "))
        )
    }

    static func verifiers(_ standings: [VerifierRegistry.Standing], json: Bool) throws {
        if json { return try self.json(VerifierListResponse(standings)) }
        table(
            ["ID", "NAME", "AGENT", "STATUS", "CURSOR", "LAG (MS)", "LAST SEEN"],
            standings.map {
                [
                    $0.verifier.id, $0.verifier.name, $0.verifier.agentID, $0.status.rawValue, String($0.verifier.cursor),
                    String(Int($0.lag / .milliseconds(1))), date($0.verifier.lastSeen),
                ]
            }
        )
    }

    /// A new key: the plaintext is printed this once.
    static func issued(_ issued: IssuedAPIKey, replaces: APIKey? = nil, propagation: RevocationPropagation? = nil, json: Bool) throws {
        if json { return try self.json(APIKeyResponse(issued.record, plaintext: issued.plaintext, replaces: replaces, propagation: propagation)) }
        try keys([issued.record], json: false)
        if let replaces {
            print("\nReplaces \(replaces.id), which stops working at \(date(replaces.expiresAt)).")
        }
        if let propagation { self.propagation(propagation) }
        print("\nAPI key (shown once; store it now):\n\(issued.plaintext)")
    }

    static func clients(_ clients: [OAuthClient], json: Bool) throws {
        if json { return try self.json(ClientListResponse(clients)) }
        table(
            ["CLIENT ID", "AGENT", "SCOPE", "AUDIENCE", "TTL", "AUTH METHOD", "STATUS", "RATE LIMIT", "NAME"],
            clients.map {
                [
                    $0.clientID, $0.agentID, $0.scopes.description, $0.audiences.joined(separator: ","), String($0.tokenTTL), $0.authMethod.rawValue,
                    $0.status.rawValue, $0.rateLimit ?? "-", $0.name ?? "-",
                ]
            }
        )
    }

    /// A client; a new secret is printed this once.
    static func client(_ client: OAuthClient, secret: String?, propagation: RevocationPropagation? = nil, json: Bool) throws {
        if json {
            var response = ClientResponse(client, secret: secret)
            response.propagation = propagation
            return try self.json(response)
        }
        try clients([client], json: false)
        if let propagation { self.propagation(propagation) }
        if let secret {
            if let until = client.previousSecretExpiresAt { print("\nThe previous secret stops working at \(date(until)).") }
            print("\nClient secret (shown once; store it now):\n\(secret)")
        }
    }

    /// Keys with their status in `schedule` (every stored key): pending, active or retired.
    static func signingKeys(_ keys: [SigningKey], schedule: SigningKeySchedule, json: Bool, single: Bool) throws {
        let now = Date()
        if json {
            return single
                ? try self.json(SigningKeyResponse(keys[0], schedule: schedule, at: now)) : try self.json(SigningKeyListResponse(keys, at: now))
        }
        table(
            ["KID", "ALGORITHM", "STATUS", "CREATED", "SIGNS FROM", "PUBLISHED UNTIL"],
            keys.map {
                let phase = schedule.phase(of: $0, at: now)
                return [
                    $0.kid, $0.algorithm.rawValue, phase.rawValue, date($0.createdAt), phase == .pending ? date(schedule.activation(of: $0)) : "-",
                    $0.status == .active ? "-" : date($0.publishedUntil),
                ]
            }
        )
    }
}
