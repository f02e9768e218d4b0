import AgentAuthCore
import ArgumentParser

/// `agentauth keys create|list|update|revoke|roll`, working on the database directly.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage API keys.",
        subcommands: [Create.self, List.self, Update.self, Revoke.self, Roll.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API key for an agent; the key is printed once.")
        @OptionGroup var options: ChangeOptions
        @Argument(help: "Agent id (agt_…).") var agentID: String
        @Option(name: .customLong("scope"), help: "A scope; repeat for several, or give a space-separated list.") var scopes: [String] = []
        @Option(help: "A name for the key.") var name: String?
        @Option(help: "Lifetime in seconds.") var expiresIn: Int?
        @Option(help: "A rate-limit tier for the key (a defined tier, e.g. low, standard, high; or unlimited).") var rateLimit: String?
        @OptionGroup var quota: QuotaOptions

        func run() async throws {
            let scopes = self.scopes.flatMap { $0.split(separator: " ").map(String.init) }
            let quota = try self.quota.value()
            let issued = try await options.change { session in
                try await session.apiKeys.createAPIKey(
                    agentID: agentID,
                    APIKeyRequest(scopes: scopes, name: name, expiresIn: expiresIn, rateLimit: rateLimit, quota: quota),
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

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a key's name, scopes (narrowing only), rate-limit tier or quota; what is not given is kept."
        )
        @OptionGroup var options: ChangeOptions
        @Argument(help: "Key id (key_…).") var keyID: String
        @OptionGroup var name: NameChangeOptions
        @Option(name: .customLong("scope"), help: "Keep only these scopes (a subset of the key's); repeat, or give a space-separated list.")
        var scopes: [String] = []
        @OptionGroup var rateLimit: RateLimitChangeOptions
        @OptionGroup var quota: QuotaChangeOptions
        @OptionGroup var confirm: ConfirmOptions

        func run() async throws {
            let scopes = self.scopes.flatMap { $0.split(separator: " ").map(String.init) }
            let update = APIKeyUpdate(
                name: name.patch,
                scopes: scopes.isEmpty ? nil : scopes,
                rateLimit: rateLimit.patch,
                quota: try quota.patch()
            )
            // Narrowed scopes matter as much as a revocation: wait until the verifiers dropped what they cached.
            let (key, propagation) = try await confirm.change(options) { session in
                try await session.apiKeys.updateAPIKey(id: keyID, update, by: session.actor)
            }
            try Output.key(key, propagation: propagation, json: options.output.json)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a key: refused from the next request on; waits for the verifiers to acknowledge it."
        )
        @OptionGroup var options: ChangeOptions
        @OptionGroup var confirm: ConfirmOptions
        @Argument(help: "Key id (key_…).") var keyID: String

        func run() async throws {
            let (key, propagation) = try await confirm.change(options) { session in
                try await session.apiKeys.revokeAPIKey(id: keyID, by: session.actor)
            }
            try Output.key(key, propagation: propagation, json: options.output.json)
        }
    }

    struct Roll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace a key; the old one works for the grace period.")
        @OptionGroup var options: ChangeOptions
        @Argument(help: "Key id (key_…).") var keyID: String
        @Option(help: "Seconds the old key keeps working (0: stops at once).") var graceSeconds = 0
        @OptionGroup var confirm: ConfirmOptions

        func run() async throws {
            // The old key's cached results are evicted everywhere before this answers, so with no
            // grace it is refused on the very next request.
            let ((replacement, previous), propagation) = try await confirm.change(options) { session in
                try await session.apiKeys.rollAPIKey(id: keyID, graceSeconds: graceSeconds, by: session.actor)
            }
            try Output.issued(replacement, replaces: previous, propagation: propagation, json: options.output.json)
        }
    }
}
