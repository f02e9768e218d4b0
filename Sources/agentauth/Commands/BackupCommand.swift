import AgentAuthCore
import AgentAuthSQLite
import ArgumentParser
import Foundation

/// `agentauth backup --output FILE`: an online copy of an SQLite database, taken while the
/// server runs. PostgreSQL has its own tools for this (docs/deployment.md).
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the SQLite database to a new file while the server keeps running.",
        discussion: """
            The copy is one consistent snapshot, created readable by its owner only. Keep the master key \
            (agentauth.key or AGENTAUTH_MASTER_KEY) with it: the signing keys in the copy are sealed under it. \
            For PostgreSQL use pg_dump (docs/deployment.md).
            """
    )

    @OptionGroup var store: StoreOptions
    @Option(help: "The new file to write (never overwritten).") var output: String

    func run() async throws {
        guard !store.isPostgres else {
            throw CLIError("backup copies SQLite databases; for PostgreSQL use pg_dump (docs/deployment.md)")
        }
        try await store.withStore { opened in
            guard let sqlite = opened as? SQLiteStore else { throw CLIError("backup copies SQLite databases only") }
            do {
                try sqlite.backup(to: output)
            } catch let error as StoreError {
                throw CLIError(error.description)
            }
        }
        print("Backed up \(store.location) to \(output). Keep the master key with it: the copy's signing keys are sealed under it.")
    }
}
