public import Logging
public import ServiceLifecycle
import Synchronization
import UnixSignals

/// Readiness during a graceful shutdown. As a service placed after the HTTP server in a service
/// group (a group shuts its services down last to first), it is the first to hear of the
/// shutdown: it marks the process as draining, so `/readyz` answers 503, and waits `grace`
/// before returning, and only then does the group stop the HTTP server, which stops accepting
/// connections and finishes the requests in flight. The grace gives a load balancer polling
/// `/readyz` time to take the process out of rotation before its listening socket closes.
public final class ShutdownDrain: Service, Sendable {
    /// How long readiness fails before the server stops accepting.
    public let grace: Duration
    private let draining = Atomic(false)

    public init(grace: Duration = .zero) {
        self.grace = grace
    }

    /// Whether a graceful shutdown has begun: readiness checks answer 503 from then on.
    public var isDraining: Bool { draining.load(ordering: .relaxed) }

    public func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return  // cancelled: the group is stopping at once, there is nothing to drain
        }
        draining.store(true, ordering: .relaxed)
        if grace > .zero { try? await Task.sleep(for: grace) }
    }

    /// Runs `application` until SIGTERM or SIGINT, then drains as described above: readiness
    /// fails for `grace`, then the application shuts down gracefully.
    public func run(_ application: some Service, logger: Logger) async throws {
        let group = ServiceGroup(
            configuration: .init(services: [application, self], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
    }
}
