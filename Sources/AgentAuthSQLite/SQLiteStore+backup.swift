import AgentAuthCore
import Foundation
import GRDB

extension SQLiteStore {
    /// Copies the whole database, as it is at one moment, to a new file at `path`, while servers
    /// and commands go on using it: SQLite's online backup API (through GRDB) reads one snapshot
    /// in a WAL read transaction, which neither waits for the writer nor holds it up. The copy is
    /// complete and consistent: an SQLite database of its own, openable with `--database`.
    ///
    /// The new file is created readable by its owner only, like the database itself; an existing
    /// file is never overwritten.
    public func backup(to path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw StoreError.conflict("\(path) already exists; a backup never overwrites a file")
        }
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw StoreError.unavailable("cannot create the backup file at \(path)")
        }
        do {
            let destination = try DatabaseQueue(path: path)
            try pool.backup(to: destination)
            try destination.close()
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw StoreError.unavailable("the backup to \(path) failed: \(Self.safeDescription(error))")
        }
    }
}
