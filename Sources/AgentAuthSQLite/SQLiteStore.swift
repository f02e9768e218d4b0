public import AgentAuthCore
import Foundation
import GRDB
public import ServiceLifecycle

/// The embedded store: one SQLite file in WAL mode, opened through a GRDB `DatabasePool`
/// (many concurrent readers, one writer). Every admin change is one write transaction.
///
/// A `Service`, like `PostgresStore`, so that callers run and stop either engine the same way:
/// it is usable as soon as it is opened, and `run()` closes the database when the service group
/// shuts down.
public final class SQLiteStore: AgentAuthStore, Service {
    let pool: DatabasePool
    /// Read-only connections for the lookups every request makes, read synchronously (`readOne`).
    /// Kept apart from `pool`: a synchronous read waiting for a connection that an async read
    /// holds while its task waits for a thread would deadlock; here no read ever suspends.
    let lookups: DatabasePool
    /// The connection that only ever asks `PRAGMA data_version` (`changeCount()`): the value moves
    /// when a connection other than this one commits, so this one must never write.
    let changeWatch: DatabaseQueue
    public let path: String

    /// Opens (creating if needed) the database at `path` and runs pending migrations. A new file is
    /// created readable by its owner only (0600): it holds the audit log and the sealed signing
    /// keys. SQLite gives its `-wal` and `-shm` files the database file's permissions.
    public init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw StoreError.unavailable("cannot create the SQLite database at \(path)")
            }
        }
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        // Wait for a competing writer (another process, e.g. the CLI next to a running server)
        // instead of failing at once.
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try SQLiteMigrations.refuseNewerSchema(pool)
            try SQLiteMigrations.migrator.migrate(pool)
            var lookupConfiguration = configuration
            lookupConfiguration.readonly = true
            // These reads run on the request's own thread: in SQLite's rare cases where a WAL
            // reader is told to wait (recovery after another process crashed), give up after
            // 100 ms with a 503 rather than hold one of two cores' threads for seconds.
            lookupConfiguration.busyMode = .timeout(0.1)
            lookups = try DatabasePool(path: path, configuration: lookupConfiguration)
            changeWatch = try DatabaseQueue(path: path, configuration: lookupConfiguration)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.unavailable("cannot open the SQLite database: \(Self.safeDescription(error))")
        }
        self.path = path
    }

    /// Waits for the service group's graceful shutdown (or cancellation), then closes both pools:
    /// the last connection to close checkpoints the WAL into the database file. Nothing runs in
    /// the background, so there is nothing else to stop.
    public func run() async throws {
        try? await gracefulShutdown()
        do {
            try changeWatch.close()
            try lookups.close()
            try pool.close()
        } catch {
            throw StoreError.unavailable("cannot close the SQLite database: \(Self.safeDescription(error))")
        }
    }

    /// The journal mode in force; `wal` for every store this type opens.
    public func journalMode() async throws -> String {
        try await read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// Names of the migrations applied, oldest first.
    public func appliedMigrations() async throws -> [String] {
        try await read { db in try SQLiteMigrations.migrator.appliedMigrations(db) }
    }

    // MARK: AgentAuthStore

    public func ping() async throws {
        _ = try await read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    public func isInitialized() async throws -> Bool {
        try await read { db in try Self.isInitialized(db) }
    }

    public func initialize(admin: Agent, adminKey: APIKey, signingKey: SigningKey, audit: AuditRecord?) async throws -> Bool {
        try await write { db in
            guard try !Self.isInitialized(db) else { return false }
            try Self.insert(admin, db)
            try Self.insert(adminKey, db)
            if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM signing_keys") == 0 {
                try Self.insert(signingKey, db)
            }
            try db.execute(
                sql: "INSERT INTO settings (name, value) VALUES ('initialized_at', ?)",
                arguments: [String(Date().timeIntervalSince1970)]
            )
            try Self.append(audit, db)
            return true
        }
    }

    private static func isInitialized(_ db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM settings WHERE name = 'initialized_at')") ?? false
    }

    /// For tamper tests and forensics only: runs raw SQL against the database.
    public func unsafeExecute(_ sql: String) async throws {
        try await write { db in try db.execute(sql: sql) }
    }
}
