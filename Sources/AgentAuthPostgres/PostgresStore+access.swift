import AgentAuthCore
import Foundation
import Logging
import PostgresNIO

/// Queries and transactions with the operation timeout, and the mapping of engine errors to
/// `StoreError`, for every part of the store.
extension PostgresStore {
    /// How long one store operation may take by default before it is reported unavailable
    /// (`operationTimeout`). While the database is down the pool would otherwise wait for a
    /// connection indefinitely, and requests must get their 503 instead of hanging.
    public static let defaultOperationTimeout: Duration = .seconds(5)

    /// Runs `body` with the operation timeout, mapping engine errors to `StoreError` (never an
    /// engine message with data in it).
    func timed<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
            return try await withThrowingTaskGroup(of: T.self) { group in
                group.addTask { [poolStarted] in
                    try await poolStarted.wait()
                    return try await body()
                }
                group.addTask { [operationTimeout] in
                    try await Task.sleep(for: operationTimeout)
                    throw StoreError.unavailable("the database did not answer in time")
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    static func storeError(_ error: any Error) -> any Error {
        switch error {
        case let error as StoreError:
            return error
        case let error as PostgresTransactionError:
            // What went wrong is the closure's (or BEGIN's, or COMMIT's) error.
            return storeError(error.closureError ?? error.beginError ?? error.commitError ?? StoreError.unavailable("transaction failed"))
        case let error as PSQLError:
            switch error.serverInfo?[.sqlState] {
            case "23503": return StoreError.notFound("a referenced record does not exist")
            case "23505": return StoreError.conflict("a record with this identity already exists")
            default: return StoreError.unavailable("database error (\(error.serverInfo?[.sqlState] ?? error.code.description))")
            }
        default:
            return StoreError.unavailable("database error (\(type(of: error)))")
        }
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        // This node's own change must be seen by its very next request, before its notification
        // comes back; counted when the transaction ends, whatever the outcome (a COMMIT that timed
        // out may still have happened), and never before the commit, which a request could
        // otherwise read past and keep under the new count.
        defer { listener.noteChange() }
        return try await timed { [client, logger, listener] in
            defer { listener.noteChange() }
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        }
    }

    /// A transaction that stores `audit`'s events after `body`'s change: both or neither.
    func transaction(audited audit: AuditRecord?, _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> Void) async throws {
        try await transaction { [logger] connection in
            try await body(connection, logger)
            try await Self.append(audit, connection, logger)
        }
    }

    static func safeDescription(_ error: any Error) -> String {
        (error as? PSQLError).map { "\($0.serverInfo?[.sqlState] ?? $0.code.description)" } ?? "\(type(of: error))"
    }

    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await timed { [client, logger] in try await client.query(query, logger: logger).collect().map { $0.makeRandomAccess() } }
    }

    static func rows(_ connection: PostgresConnection, _ query: PostgresQuery, logger: Logger) async throws -> [PostgresRandomAccessRow] {
        try await connection.query(query, logger: logger).collect().map { $0.makeRandomAccess() }
    }
}
