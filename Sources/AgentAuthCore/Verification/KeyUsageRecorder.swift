public import Foundation
import Synchronization

/// Collects API-key last-used times in memory so that verification never writes to the
/// database; `flush()` writes them as one batch (the server runs it every few seconds and
/// once more at shutdown).
public final class KeyUsageRecorder: Sendable {
    private let pending = Mutex<[String: Date]>([:])
    private let store: any APIKeyStore

    public init(store: any APIKeyStore) {
        self.store = store
    }

    public func record(keyID: String, at date: Date) {
        pending.withLock { $0[keyID] = date }
    }

    /// Writes what was collected. On failure the batch is put back, newer times winning.
    public func flush() async throws {
        let batch = pending.withLock { pending in
            defer { pending = [:] }
            return pending
        }
        guard !batch.isEmpty else { return }
        do {
            try await store.recordAPIKeyUsage(batch)
        } catch {
            pending.withLock { pending in
                pending.merge(batch) { newer, _ in newer }
            }
            throw error
        }
    }

    public var pendingCount: Int { pending.withLock { $0.count } }
}
