import AgentAuthCore
import ArgumentParser

/// `agentauth keys create|list|revoke|roll`, working on the database directly.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage API keys.",
        subcommands: [Create.self, List.self, Revoke.self, Roll.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API key for an agent; the key is printed once.")
        @OptionGroup var options: ChangeOptions
        @Argument(help: "Agent id (agt_…).") var agentID: String
        @Option(name: .customLong("scope"), help: "A scope; repeat for several, or give a space-separated list.") var scopes: [String] = []
        @Option(help: "A name for the key.") var name: String?
        @Option(help: "Lifetime in seconds.") var expiresIn: Int?
        @Option(help: "Rate-limit tier: low, standard, high, unlimited.") var rateLimit: String?

        func run() async throws {
            let scopes = self.scopes.flatMap { $0.split(separator: " ").map(String.init) }
            let issued = try await options.change { session in
                try await session.apiKeys.createAPIKey(
                    agentID: agentID,
                    APIKeyRequest(scopes: scopes, name: name, expiresIn: expiresIn, rateLimit: rateLimit),
                    by: session.actor
                )
            }
            try Output.issued(issued, json: options.output.json)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an agent's keys (never the secrets).")
        @OptionGroup var options: ReadOptions
        @Argument(help: "Agent id (agt_…).") var agentID: String

        func run() async throws {
            try Output.keys(try await options.read { try await APIKeyAdministration(store: $0).apiKeys(agentID: agentID) }, json: options.output.json)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key: refused from the next request on.")
        @OptionGroup var options: ChangeOptions
        @Argument(help: "Key id (key_…).") var keyID: String

        func run() async throws {
            let key = try await options.change { session in
                try await session.apiKeys.revokeAPIKey(id: keyID, by: session.actor)
            }
            try Output.key(key, json: options.output.json)
        }
    }

    struct Roll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace a key; the old one works for the grace period.")
        @OptionGroup var options: ChangeOptions
        @Argument(help: "Key id (key_…).") var keyID: String
        @Option(help: "Seconds the old key keeps working (0: stops at once).") var graceSeconds = 0

        func run() async throws {
            let (replacement, previous) = try await options.change { session in
                try await session.apiKeys.rollAPIKey(id: keyID, graceSeconds: graceSeconds, by: session.actor)
            }
            try Output.issued(replacement, replaces: previous, json: options.output.json)
        }
    }
}
