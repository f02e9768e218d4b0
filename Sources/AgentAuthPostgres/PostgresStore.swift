public import AgentAuthCore
import Foundation
public import Logging
import PostgresNIO
public import ServiceLifecycle

/// The distributed store: PostgreSQL through PostgresNIO's pooled `PostgresClient`. Any number
/// of stateless nodes share one database. Every admin change is one transaction. Passes the same
/// conformance suite as `SQLiteStore`.
///
/// A `Service`: the pool and the LISTEN connection of the change feed run inside `run()`, so
/// the service group that runs the store also stops it, after everything that uses it. Until
/// `run()` has started, queries wait for it (and time out after `operationTimeout`, as any).
public final class PostgresStore: AgentAuthStore, StoreChangeNotifier, StoreChangeCounter, Service {
    let client: PostgresClient
    let logger: Logger
    let listener: PostgresChangeListener
    /// Fired by `run()` as it starts the pool: queries wait for it, so that none asks the pool
    /// for a connection before it runs (postgres-nio would queue it, but log a warning each time).
    let poolStarted = StartSignal()
    let operationTimeout: Duration

    /// Checks that the server answers and applies pending migrations, over one connection of its
    /// own: the pool serves only once the store runs.
    /// - Parameter url: `postgres://user:password@host:port/database` (`postgresql://` too).
    /// - Parameter operationTimeout: how long one operation may take before it is reported
    ///   unavailable (`StoreError.unavailable`, a 503 at the server).
    public init(
        url: String,
        logger: Logger = Logger(label: "agentauth.postgres"),
        operationTimeout: Duration = PostgresStore.defaultOperationTimeout
    ) async throws {
        self.operationTimeout = operationTimeout
        let address = try PostgresURL(url)
        let configuration = try address.clientConfiguration()
        let connectionConfiguration = try address.connectionConfiguration()
        // A direct connection, so an unreachable server or a bad login fails at once (the pool
        // would keep retrying in the background).
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: connectionConfiguration, id: 0, logger: logger)
        } catch {
            throw StoreError.unavailable(
                "cannot connect to PostgreSQL at \(address.host):\(address.port) (sslmode=\(address.sslMode.rawValue)): \(PostgresURL.reason(error))"
            )
        }
        do {
            try await PostgresMigrations.migrate(connection, logger: logger)
        } catch {
            try? await connection.close()
            if let refusal = (error as? PostgresTransactionError)?.closureError as? StoreError { throw refusal }
            throw StoreError.unavailable("cannot migrate the PostgreSQL database: \(Self.safeDescription(error))")
        }
        try? await connection.close()
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
        listener = PostgresChangeListener(configuration: connectionConfiguration, logger: logger)
    }

    /// Runs the connection pool and the change listener until the service group shuts down
    /// (or the task is cancelled); then both close their connections.
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.client.run() }
            group.addTask {
                // postgres-nio does not tell when its run() has begun; it marks the pool running
                // first thing, so this short wait lets the queries that waited find it running.
                try? await Task.sleep(for: .milliseconds(10))
                self.poolStarted.fire()
            }
            group.addTask { await self.listener.run() }
        }
    }

    public func changes() -> AsyncStream<StoreChange> {
        listener.subscribe()
    }

    /// Moves on every change feed notification and after each of this node's write transactions;
    /// `nil` while the LISTEN connection is down (`StoreChangeCounter`). Cross-node changes are
    /// seen once their notification arrives, which PostgreSQL sends at commit.
    public func changeCount() -> UInt64? {
        listener.changeCount()
    }

    /// Tells every node (at commit) that something changed; called inside the writing transaction.
    static func notify(_ change: StoreChange, _ connection: PostgresConnection, _ logger: Logger) async throws {
        let payload = change.rawValue
        try await connection.query("SELECT pg_notify(\(PostgresChangeListener.channel), \(payload))", logger: logger)
    }

    /// The migrations applied, oldest first.
    public func appliedMigrations() async throws -> [String] {
        try await rows("SELECT name FROM schema_migrations ORDER BY applied_at, name").map { try $0["name"].decode(String.self) }
    }

    // MARK: AgentAuthStore

    public func ping() async throws {
        _ = try await rows("SELECT 1")
    }

    public func isInitialized() async throws -> Bool {
        try await !rows("SELECT 1 FROM settings WHERE name = 'initialized_at'").isEmpty
    }

    public func initialize(admin: Agent, adminKey: APIKey, signingKey: SigningKey, audit: AuditRecord?) async throws -> Bool {
        try await transaction { [logger] connection in
            try await connection.query("LOCK TABLE settings IN EXCLUSIVE MODE", logger: logger)
            guard try await Self.rows(connection, "SELECT 1 FROM settings WHERE name = 'initialized_at'", logger: logger).isEmpty else {
                return false
            }
            try await Self.insert(admin, connection, logger)
            try await Self.insert(adminKey, connection, logger)
            if try await Self.rows(connection, "SELECT 1 FROM signing_keys LIMIT 1", logger: logger).isEmpty {
                try await Self.insert(signingKey, connection, logger)
            }
            let now = String(Date().timeIntervalSince1970)
            try await connection.query("INSERT INTO settings (name, value) VALUES ('initialized_at', \(now))", logger: logger)
            try await Self.append(audit, connection, logger)
            return true
        }
    }
}
