import AgentAuthCore
import AgentAuthPostgres
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

    /// Opens the store, creating the database when `create` is set (`init`, `serve`). Admin
    /// commands refuse a database that does not exist or was never initialised, so that a
    /// mistyped path does not quietly start a new, empty one.
    var isPostgres: Bool { location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") }

    func openStore(create: Bool = false) async throws -> any AgentAuthStore {
        let location = self.location
        let store: any AgentAuthStore
        if isPostgres {
            do {
                store = try await PostgresStore(url: location)
            } catch {
                throw CLIError("cannot open the PostgreSQL database: \(error)")
            }
        } else {
            if !create, !FileManager.default.fileExists(atPath: location) {
                throw CLIError("no AgentAuth database at \(location); run `agentauth init` (or `agentauth serve`) first, or pass --database")
            }
            do {
                store = try SQLiteStore(path: location)
            } catch {
                throw CLIError("cannot open the database at \(location): \(error)")
            }
        }
        if !create, try await !store.isInitialized() {
            throw CLIError("the database at \(location) is not initialised; run `agentauth init` first")
        }
        return store
    }
}

extension StoreOptions {
    /// The admin operations on an existing, initialised database.
    func administration() async throws -> AgentAdministration {
        AgentAdministration(store: try await openStore())
    }
}

/// `--json` for scripts; tables for people otherwise.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON instead of a table.")
    var json = false
}

/// A failure to report as `Error: …` with exit status 1 (not a usage error).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
