import Logging
import NIOCore
import Synchronization

/// Counts a server's open connections and closes those past the cap as they are accepted.
///
/// Hummingbird's own `MaximumAvailableConnections` stops accepting at its cap instead, which
/// leaves new clients waiting in the kernel's listen queue (and then retrying SYNs) until
/// someone else's connection ends; here they get an immediate close, and the check costs one
/// atomic add before any handler is set up or the socket is registered with an event loop.
/// (`MaximumAvailableConnections` still bounds, a little above this cap, how many accepted
/// connections may be awaiting that close: `ApplicationConfiguration.agentAuth`.)
final class ConnectionCap: Sendable {
    let maximum: Int
    private let open = Atomic<Int>(0)
    /// Uptime (ns) of the last warning, so a flood logs once per interval, not once per connection.
    private let lastWarning = Atomic<UInt64>(0)
    private static let warningInterval: UInt64 = 10_000_000_000

    init(maximum: Int) {
        self.maximum = maximum
    }

    var openConnections: Int { open.load(ordering: .relaxed) }

    /// Counts `channel` in (and out again when it closes) and returns true, or closes it and
    /// returns false when the cap is reached.
    func admit(_ channel: any Channel, logger: Logger) -> Bool {
        let count = open.wrappingAdd(1, ordering: .relaxed).newValue
        guard count <= maximum else {
            open.wrappingSubtract(1, ordering: .relaxed)
            channel.close(promise: nil)
            warn(logger)
            return false
        }
        channel.closeFuture.whenComplete { _ in self.open.wrappingSubtract(1, ordering: .relaxed) }
        return true
    }

    private func warn(_ logger: Logger) {
        let now = NIODeadline.now().uptimeNanoseconds
        let last = lastWarning.load(ordering: .relaxed)
        guard now &- last >= Self.warningInterval || last == 0,
            lastWarning.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged
        else { return }
        logger.warning("connection limit reached; closing new connections until some end", metadata: ["max_connections": "\(maximum)"])
    }
}

/// Why a connection's setup stopped: it was over the cap and has been closed.
struct ConnectionCapReached: Error {}
