import AgentAuthCore
import AgentAuthPostgres
import AgentAuthSQLite
import ArgumentParser
import Foundation
import ServiceLifecycle

/// `--database`: an SQLite file path (default `./agentauth.sqlite`) or a `postgres://` URL.
struct StoreOptions: ParsableArguments {
    @Option(help: "SQLite file path or postgres:// URL (env AGENTAUTH_DATABASE).")
    var database: String?

    var location: String {
        database ?? ProcessInfo.processInfo.environment["AGENTAUTH_DATABASE"] ?? "./agentauth.sqlite"
    }

    var isPostgres: Bool { location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") }

    /// Opens the store, runs it while `body` works with it, and closes it after, also when
    /// `body` throws: every command opens one store, and leaves no connection or file handle
    /// behind. Without `create` (the admin commands) a database that does not exist or was never
    /// initialised is refused, so that a mistyped path does not quietly start a new, empty one.
    func withStore<T>(create: Bool = false, _ body: (any AgentAuthStore) async throws -> T) async throws -> T {
        let store = try await open(create: create)
        return try await store.whileRunning {
            if !create, try await !store.isInitialized() {
                throw CLIError("the database at \(location) is not initialised; run `agentauth init` first")
            }
            return try await body(store)
        }
    }

    /// The store, opened (and migrated) but not yet running: `serve` runs it in its service group.
    func open(create: Bool) async throws -> any AgentAuthStore & Service {
        if isPostgres {
            do {
                return try await PostgresStore(url: location)
            } catch {
                throw CLIError("cannot open the PostgreSQL database: \(error)")
            }
        }
        if !create, !FileManager.default.fileExists(atPath: location) {
            throw CLIError("no AgentAuth database at \(location); run `agentauth init` (or `agentauth serve`) first, or pass --database")
        }
        do {
            return try SQLiteStore(path: location)
        } catch {
            throw CLIError("cannot open the database at \(location): \(error)")
        }
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
