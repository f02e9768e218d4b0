public import Hummingbird
import HummingbirdCore
public import Logging

extension ApplicationConfiguration {
    /// The application configuration that goes with `HTTPServerBuilder.agentAuthHTTP1(limits)`:
    /// besides the address and server name, the server stops accepting while the connections
    /// it holds plus the over-the-cap ones not yet closed reach the cap plus
    /// `ConnectionLimits.acceptHeadroom` (Hummingbird's `MaximumAvailableConnections`, counted
    /// as each connection is accepted).
    ///
    /// Why both: the cap closes connections past it, but NIO runs each accepted connection's
    /// setup as a task on its event loop, so under a flood the accept loop can run ahead of
    /// those closes; measured under a 256-descriptor limit, a flood drove the server to 250
    /// open descriptors and now and then past the last one. With this bound, descriptors open
    /// for connections never exceed the cap plus the headroom, both inside the reserve.
    public static func agentAuth(address: BindAddress, serverName: String?, limits: ConnectionLimits, logger: Logger) -> ApplicationConfiguration {
        ApplicationConfiguration(
            address: address,
            serverName: serverName,
            availableConnectionsDelegate: .maximum(limits.effectiveMaxConnections + ConnectionLimits.acceptHeadroom, logger: logger)
        )
    }
}
