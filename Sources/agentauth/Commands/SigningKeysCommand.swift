import AgentAuthCore
import AgentAuthSQLite
import ArgumentParser
import Foundation

/// `agentauth signing-keys rotate|list`, working on the database directly.
struct SigningKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signing-keys",
        abstract: "Manage token-signing keys.",
        subcommands: [Rotate.self, List.self]
    )

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Make a new signing key, published at once, signing after the activation delay; the old one stays in the JWKS until its last token has expired."
        )
        @OptionGroup var options: ChangeOptions
        @Option(help: "Algorithm: EdDSA or ES256.") var algorithm: SigningAlgorithm = .eddsa
        @Option(help: "Seconds the new key is published before it signs, so every resource server has fetched it first.")
        var activationDelay = Int(SigningKeyRing.defaultActivationDelay)

        func validate() throws {
            guard (0...300).contains(activationDelay) else { throw ValidationError("--activation-delay must be between 0 and 300 seconds") }
        }

        func run() async throws {
            let (key, schedule) = try await options.change { session in
                let signingKeys = session.signingKeys
                let key = try await signingKeys.rotate(to: algorithm, activationDelay: TimeInterval(activationDelay), by: session.actor)
                return (key, try await signingKeys.keys().schedule)
            }
            try Output.signingKeys([key], schedule: schedule, json: options.output.json, single: true)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List signing keys, newest first.")
        @OptionGroup var options: ReadOptions

        func run() async throws {
            let keys = try await options.read { try await $0.signingKeys() }.sorted { $0.createdAt > $1.createdAt }
            try Output.signingKeys(keys, schedule: SigningKeySchedule(keys), json: options.output.json, single: false)
        }
    }
}
