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

    static func agent(_ agent: Agent, json: Bool) throws {
        if json { return try self.json(AgentResponse(agent)) }
        table(
            ["ID", "NAME", "STATUS", "CREATED", "DISABLED"],
            [[agent.id, agent.name, agent.status.rawValue, date(agent.createdAt), date(agent.disabledAt)]]
        )
    }

    static func keys(_ keys: [APIKey], json: Bool) throws {
        if json { return try self.json(APIKeyListResponse(keys)) }
        table(
            ["ID", "KEY", "SCOPES", "STATUS", "EXPIRES", "LAST USED"],
            keys.map { [$0.id, $0.display, $0.scopes.description, $0.status.rawValue, date($0.expiresAt), date($0.lastUsedAt)] }
        )
    }

    static func key(_ key: APIKey, json: Bool) throws {
        if json { return try self.json(APIKeyResponse(key)) }
        try keys([key], json: false)
    }

    /// A new key: the plaintext is printed this once.
    static func issued(_ issued: IssuedAPIKey, replaces: APIKey? = nil, json: Bool) throws {
        if json { return try self.json(APIKeyResponse(issued.record, plaintext: issued.plaintext, replaces: replaces)) }
        try keys([issued.record], json: false)
        if let replaces {
            print("\nReplaces \(replaces.id), which stops working at \(date(replaces.expiresAt)).")
        }
        print("\nAPI key (shown once; store it now):\n\(issued.plaintext)")
    }
}
