import Synchronization

/// How many revocation-feed long-polls each credential holds open at once. A verifier holds
/// one; a credential holding many more is broken or abused, and each waiting poll keeps a
/// connection and a task, so past the limit polls are refused at once.
final class ConcurrentPollLimit: Sendable {
    let limit: Int
    private let open = Mutex<[String: Int]>([:])

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes a slot for `key`; false when it already holds `limit`.
    func acquire(_ key: String) -> Bool {
        open.withLock { open in
            let count = open[key, default: 0]
            guard count < limit else { return false }
            open[key] = count + 1
            return true
        }
    }

    func release(_ key: String) {
        open.withLock { open in
            guard let count = open[key] else { return }
            open[key] = count > 1 ? count - 1 : nil
        }
    }

    /// Slots `key` holds now.
    func count(_ key: String) -> Int {
        open.withLock { $0[key, default: 0] }
    }
}
