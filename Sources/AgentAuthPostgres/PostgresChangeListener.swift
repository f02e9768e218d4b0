import AgentAuthCore
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// LISTEN on one dedicated connection, fanned out to every subscriber. Runs inside
/// `PostgresStore.run()`; connects once there is a first subscriber (a CLI command never
/// subscribes, so it never opens this connection); reconnects with back-off by itself (a
/// PostgreSQL restart or a dropped connection needs no node restart), and after every
/// (re)connection sends `.resync`, because notifications sent while it was away are lost and the
/// node must catch up from the store. On graceful shutdown it closes the connection and ends
/// every subscriber's stream.
final class PostgresChangeListener: Sendable {
    static let channel = "agentauth_changes"

    let configuration: PostgresConnection.Configuration
    let logger: Logger
    private let state = Mutex<(subscribers: [UUID: AsyncStream<StoreChange>.Continuation], finished: Bool)>(([:], false))
    /// One element per subscription: `run()` waits for the first before it connects.
    private let demand = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    /// Moves on every notification, every (re)connection and every write of this node
    /// (`noteChange()`): the store's `changeCount()`.
    private let changes = Atomic<UInt64>(0)
    /// Whether LISTEN is in force now; while it is not, other nodes' changes would go unseen.
    private let listening = Atomic<Bool>(false)
    private let counted = Atomic<Bool>(false)

    init(configuration: PostgresConnection.Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Changes from now on, until the store stops (then the stream ends).
    func subscribe() -> AsyncStream<StoreChange> {
        let (stream, continuation) = AsyncStream<StoreChange>.makeStream(bufferingPolicy: .bufferingNewest(64))
        let id = UUID()
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
        }
        let accepted = state.withLock { state in
            guard !state.finished else { return false }
            state.subscribers[id] = continuation
            return true
        }
        if accepted {
            demand.continuation.yield()
        } else {
            continuation.finish()
        }
        return stream
    }

    /// The change count, `nil` while not listening. The first call asks for the connection, as a
    /// subscription does.
    func changeCount() -> UInt64? {
        if !counted.load(ordering: .relaxed), !counted.exchange(true, ordering: .relaxed) {
            demand.continuation.yield()
        }
        guard listening.load(ordering: .acquiring) else { return nil }
        return changes.load(ordering: .acquiring)
    }

    /// Counts a change this node made (or may have made): called after its write transactions
    /// end, before their notifications come back.
    func noteChange() {
        changes.wrappingAdd(1, ordering: .acquiringAndReleasing)
    }

    /// Listens from the first subscription until graceful shutdown or cancellation.
    func run() async {
        await cancelWhenGracefulShutdown { [self] in
            for await _ in demand.stream { break }
            await listen()
        }
        let subscribers = state.withLock { state in
            state.finished = true
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for continuation in subscribers { continuation.finish() }
    }

    private func broadcast(_ change: StoreChange) {
        noteChange()
        state.withLock { state in
            for continuation in state.subscribers.values { continuation.yield(change) }
        }
    }

    private func listen() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: configuration,
                    id: 1,
                    logger: logger
                )
                do {
                    try await connection.listen(on: Self.channel) { notifications in
                        failures = 0
                        // Counted before it is trusted: what was kept while away is dropped.
                        broadcast(.resync)
                        listening.store(true, ordering: .releasing)
                        defer { listening.store(false, ordering: .releasing) }
                        for try await notification in notifications {
                            broadcast(StoreChange(rawValue: notification.payload) ?? .resync)
                        }
                    }
                } catch {
                    listening.store(false, ordering: .releasing)
                    try? await connection.close()
                    throw error
                }
                listening.store(false, ordering: .releasing)
                try? await connection.close()
            } catch {
                if Task.isCancelled { return }
                failures += 1
                logger.warning("PostgreSQL change listener disconnected; reconnecting", metadata: ["attempt": "\(failures)"])
            }
            // 0.1 s doubling to 2 s.
            try? await Task.sleep(for: .milliseconds(Int(min(0.1 * pow(2, Double(min(failures, 5))), 2) * 1000)))
        }
    }
}
