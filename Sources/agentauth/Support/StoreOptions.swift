import AgentAuthCore
import AgentAuthSQLite
import ArgumentParser
import Foundation

/// `--database`: an SQLite file path (default `./agentauth.sqlite`) or a `postgres://` URL.
struct StoreOptions: ParsableArguments {
    @Option(help: "SQLite file path or postgres:// URL (env AGENTAUTH_DATABASE).")
    var database: String?

    var location: String {
        database ?? ProcessInfo.processInfo.environment["AGENTAUTH_DATABASE"] ?? "./agentauth.sqlite"
    }

    func openStore() throws -> SQLiteStore {
        let location = self.location
        if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") {
            throw ValidationError("PostgreSQL storage is not available in this build yet; use an SQLite file path.")
        }
        do {
            return try SQLiteStore(path: location)
        } catch {
            throw ValidationError("cannot open the database at \(location): \(error)")
        }
    }
}

/// `--json` for scripts; tables for people otherwise.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON instead of a table.")
    var json = false
}
