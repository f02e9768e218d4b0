public import AgentAuthCore
import GRDB

/// The change signal for the token endpoint's cache of clients and agents (`StoreChangeCounter`).
///
/// `PRAGMA data_version` is chosen over a counter kept in a table: it moves on every commit by any
/// other connection to the file (this process's pools, the `agentauth` CLI, another server on the
/// same file), so no writer has to remember to bump anything, and asking costs no row read: in WAL
/// mode it compares the WAL index header in shared memory, a few microseconds on the request's
/// own thread, cheaper than the one-row join it saves. Its cost is that it is coarse: every
/// commit counts, the audit log's batch each second included, so the cache is refilled by one read
/// per client after each such commit, which is rare next to token requests.
extension SQLiteStore: StoreChangeCounter {
    public func changeCount() -> UInt64? {
        // A failure (the file busy past the 100 ms timeout, or closed) keeps nothing: the store read
        // that follows answers, or fails, as it did before the cache.
        try? changeWatch.inDatabase { db in
            try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")).map { UInt64(bitPattern: $0) }
        }
    }
}
