import AgentAuthCore
import AgentAuthServer
import ArgumentParser

/// `agentauth rate-limits set|list|show|delete`, working on the database directly.
struct RateLimitsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rate-limits",
        abstract: "Define rate-limit tiers, assigned by name to agents, keys and clients.",
        subcommands: [SetTier.self, List.self, Show.self, Delete.self]
    )

    struct SetTier: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Create or replace a tier.")
        @OptionGroup var options: ChangeOptions
        @Argument(help: "The tier's name (letters, digits, '.', '_', '-'; starting with a letter).") var name: String
        @Option(help: "Requests allowed per window, on average.") var requests: Int
        @Option(help: "The window, in seconds.") var windowSeconds: Int
        @Option(help: "Requests allowed at once after a quiet spell (default: --requests).") var burst: Int?

        func run() async throws {
            let tier = try await options.change { session in
                try await session.rateLimits.putTier(name: name, requests: requests, windowSeconds: windowSeconds, burst: burst, by: session.actor)
            }
            try Output.rateLimits([tier], json: options.output.json, single: true)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the tiers, by name.")
        @OptionGroup var options: ReadOptions

        func run() async throws {
            let tiers = try await options.read { try await RateLimitAdministration(store: $0).tiers() }
            try Output.rateLimits(tiers, json: options.output.json, single: false)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one tier.")
        @OptionGroup var options: ReadOptions
        @Argument(help: "The tier's name.") var name: String

        func run() async throws {
            let tier = try await options.read { try await RateLimitAdministration(store: $0).tier(name: name) }
            try Output.rateLimits([tier], json: options.output.json, single: true)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a tier (refused while an agent, key or client is assigned it).")
        @OptionGroup var options: ChangeOptions
        @Argument(help: "The tier's name.") var name: String

        func run() async throws {
            try await options.change { session in try await session.rateLimits.deleteTier(name: name, by: session.actor) }
            try Output.deleted(name, what: "rate limit", json: options.output.json)
        }
    }
}
