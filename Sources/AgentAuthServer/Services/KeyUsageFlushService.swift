import AgentAuthCore
import Logging
import ServiceLifecycle

/// Writes collected API-key last-used times every `interval`, and once more at shutdown,
/// so that verification never waits on a database write.
struct KeyUsageFlushService: Service {
    let recorder: KeyUsageRecorder
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                break
            }
            await flush()
        }
        await flush()
    }

    private func flush() async {
        do {
            try await recorder.flush()
        } catch {
            logger.warning("could not write API-key usage; will retry", metadata: ["error": "\(error)"])
        }
    }
}
