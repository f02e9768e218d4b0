import AgentAuthCore
import AgentAuthSQLite
import ArgumentParser
import Foundation

/// `agentauth init`: schema, bootstrap admin agent and admin key (printed once).
struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Initialise a database and print the admin key once.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var masterKey: MasterKeyOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Algorithm of the first signing key: EdDSA or ES256.")
    var signingAlgorithm: SigningAlgorithm = .eddsa

    @Flag(help: "Exit 0 when the database is already initialised.")
    var ifNeeded = false

    func run() async throws {
        let result = try await store.withStore(create: true) { store in
            try await store.isInitialized()
                ? nil
                : try await AgentAdministration(store: store).initialize(
                    masterKey: try masterKey.load(for: self.store, create: true),
                    algorithm: signingAlgorithm
                )
        }
        guard let (agent, key) = result else {
            if output.json {
                try Output.json(["already_initialized": true])
            } else {
                FileHandle.standardError.write(Data("The database at \(self.store.location) is already initialised; nothing changed.\n".utf8))
            }
            throw ExitCode(ifNeeded ? 0 : 1)
        }
        if output.json {
            try Output.json(["agent_id": agent.id, "admin_key": key.plaintext])
        } else {
            Bootstrap.printBanner(agentID: agent.id, adminKey: key.plaintext, location: self.store.location)
        }
    }
}

enum Bootstrap {
    static func printBanner(agentID: String, adminKey: String, location: String) {
        // Written unbuffered: stdout is block-buffered when it is not a terminal, and the key
        // must be visible at once.
        FileHandle.standardOutput.write(
            Data(
                """
                Initialised AgentAuth database at \(location).
                Admin agent: \(agentID)
                Admin API key (shown once; store it now, it cannot be shown again):
                \(adminKey)

                """.utf8
            )
        )
    }
}
