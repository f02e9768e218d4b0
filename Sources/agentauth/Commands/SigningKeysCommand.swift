import AgentAuthCore
import AgentAuthSQLite
import ArgumentParser

/// `agentauth signing-keys rotate|list`, working on the database directly.
struct SigningKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signing-keys",
        abstract: "Manage token-signing keys.",
        subcommands: [Rotate.self, List.self]
    )

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new active signing key; the old one stays in the JWKS until its last token has expired."
        )
        @OptionGroup var store: StoreOptions
        @OptionGroup var masterKey: MasterKeyOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Algorithm: EdDSA or ES256.") var algorithm: SigningAlgorithm = .eddsa

        func run() async throws {
            let session = try await AdminSession.open(store, masterKey)
            let ring = SigningKeyRing(store: session.store, masterKey: session.masterKey)
            // Retired keys must outlive the longest token any client can hold, plus the verifiers' leeway
            // and the time a running server takes to notice the rotation.
            let lifetime = ring.retiredKeyLifetime(maxTokenLifetime: try await session.store.maxClientTokenTTL(), leeway: 30)
            let rotated = try await ring.rotate(to: algorithm, retiredKeyLifetime: lifetime, by: session.actor)
            try Output.signingKeys([rotated], json: output.json, single: true)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List signing keys, newest first.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let keys = try await store.openStore().signingKeys().sorted { $0.createdAt > $1.createdAt }
            try Output.signingKeys(keys, json: output.json, single: false)
        }
    }
}
