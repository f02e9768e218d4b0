import AgentAuthCore
import Foundation
import GRDB

/// Reads, writes and the mapping of engine errors to `StoreError`, for every part of the store.
extension SQLiteStore {
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// A read of one SELECT statement, for the lookups every request makes (keys, clients, agents).
    /// It runs outside a transaction (a single statement already sees one consistent snapshot;
    /// BEGIN and COMMIT would cost as much as the lookup), with a cached prepared statement, and
    /// on the calling thread, from `lookups`: an indexed read of one row from a WAL database, where
    /// readers never wait for the writer, costs less than the two thread hops of GRDB's async
    /// read, which were the largest single cost of a token request.
    func readOne<T: Sendable>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try lookups.unsafeRead(body)
        } catch {
            throw Self.storeError(error)
        }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// A write transaction that stores `audit`'s events after `body`'s change: both or neither.
    func write(audited audit: AuditRecord?, _ body: @escaping @Sendable (Database) throws -> Void) async throws {
        try await write { db in
            try body(db)
            try Self.append(audit, db)
        }
    }

    static func storeError(_ error: any Error) -> any Error {
        if error is StoreError { return error }
        guard let error = error as? DatabaseError else { return StoreError.unavailable("database error") }
        switch error.extendedResultCode {
        case .SQLITE_CONSTRAINT_FOREIGNKEY:
            return StoreError.notFound("a referenced record does not exist")
        case .SQLITE_CONSTRAINT_UNIQUE, .SQLITE_CONSTRAINT_PRIMARYKEY:
            return StoreError.conflict("a record with this identity already exists")
        default:
            return StoreError.unavailable("database error (\(error.resultCode))")
        }
    }

    static func safeDescription(_ error: any Error) -> String {
        (error as? DatabaseError).map { "\($0.resultCode)" } ?? "\(type(of: error))"
    }
}
