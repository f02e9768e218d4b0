import AgentAuthCore
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// LISTEN on one dedicated connection, fanned out to every subscriber. Started by the first
/// subscriber; reconnects with back-off by itself (a PostgreSQL restart or a dropped connection
/// needs no node restart), and after every (re)connection sends `.resync`, because
/// notifications sent while it was away are lost and the node must catch up from the store.
final class PostgresChangeListener: Sendable {
    static let channel = "agentauth_changes"

    let configuration: PostgresClient.Configuration
    let logger: Logger
    private let state = Mutex<(subscribers: [UUID: AsyncStream<StoreChange>.Continuation], task: Task<Void, Never>?)>(([:], nil))

    init(configuration: PostgresClient.Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    func subscribe() -> AsyncStream<StoreChange> {
        let (stream, continuation) = AsyncStream<StoreChange>.makeStream(bufferingPolicy: .bufferingNewest(64))
        let id = UUID()
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
        }
        state.withLock { state in
            state.subscribers[id] = continuation
            if state.task == nil { state.task = Task { [weak self] in await self?.listen() } }
        }
        return stream
    }

    func stop() {
        state.withLock { state in
            state.task?.cancel()
            state.task = nil
            for continuation in state.subscribers.values { continuation.finish() }
            state.subscribers = [:]
        }
    }

    private func broadcast(_ change: StoreChange) {
        state.withLock { state in
            for continuation in state.subscribers.values { continuation.yield(change) }
        }
    }

    private func listen() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: configuration.singleConnection,
                    id: 1,
                    logger: logger
                )
                defer { Task { try? await connection.close() } }
                try await connection.listen(on: Self.channel) { notifications in
                    failures = 0
                    broadcast(.resync)
                    for try await notification in notifications {
                        broadcast(StoreChange(rawValue: notification.payload) ?? .resync)
                    }
                }
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
