import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Binds the address once and lets it go, before `serve` opens or creates anything: a busy port
/// or an address this machine does not have is then one line, not a half-started server whose
/// background work fails as it is torn down. The server's own bind is still checked (another
/// process may take the port in between).
enum PortCheck {
    static func check(host: String, port: Int) async throws {
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port)
                .get()
            try await channel.close()
        } catch {
            throw CLIError(message(for: error, host: host, port: port) ?? "cannot listen on \(host):\(port): \(error)")
        }
    }

    /// The one line for a failed bind, or nil for an error of another kind.
    static func message(for error: any Error, host: String, port: Int) -> String? {
        guard let error = error as? IOError else { return nil }
        switch error.errnoCode {
        case EADDRINUSE: return "port \(port) is already in use (host \(host))"
        case EADDRNOTAVAIL: return "cannot listen on \(host): not an address of this machine"
        case EACCES: return "cannot listen on port \(port): permission denied (ports below 1024 need privileges)"
        default: return nil
        }
    }
}
