import Logging
import ServiceLifecycle

/// Runs `work` every `interval` and once more at graceful shutdown: how last-used times and
/// audit events reach the store in batches, and how this node follows revocations.
struct PeriodicService: Service {
    let name: String
    let interval: Duration
    let logger: Logger
    /// Whether `work` also runs as the service starts, before the first interval has passed.
    var runsAtStart = false
    let work: @Sendable (_ final: Bool) async throws -> Void

    func run() async throws {
        if runsAtStart { await perform(final: false) }
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                break
            }
            await perform(final: false)
        }
        await perform(final: true)
    }

    private func perform(final: Bool) async {
        do {
            try await work(final)
        } catch {
            logger.warning("\(name) failed; will retry", metadata: ["error": "\(error)"])
        }
    }
}
