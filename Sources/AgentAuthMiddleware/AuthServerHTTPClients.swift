import AsyncHTTPClient
import NIOCore
import NIOSSL
import Synchronization

/// The HTTP clients a resource server reaches its auth server with: the shared defaults, or,
/// for an auth server whose certificate is signed by a private CA (`authServerCAFile`), clients
/// that trust that CA alone. Those are made once per CA file and kept for the process's life,
/// like the defaults: a client must be shut down before it is released, and these serve every
/// middleware built with the same file.
struct AuthServerHTTPClients: Sendable {
    /// Introspection and the issuer's keys: fail fast.
    let requests: HTTPClient
    /// The revocation feed's long-polls, the limits and usage reports.
    let longPolls: HTTPClient

    static let defaults = AuthServerHTTPClients(requests: IntrospectionClient.defaultHTTPClient, longPolls: RevocationFeedFollower.defaultHTTPClient)

    private static let byCAFile = Mutex<[String: AuthServerHTTPClients]>([:])

    static func clients(caFile: String?) -> AuthServerHTTPClients {
        guard let caFile else { return defaults }
        return byCAFile.withLock { made in
            if let clients = made[caFile] { return clients }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(caFile)
            var requests = HTTPClient.Configuration(tlsConfiguration: tls)
            requests.timeout = .init(connect: .seconds(1), read: .seconds(5))
            requests.connectionPool.retryConnectionEstablishment = false
            var longPolls = HTTPClient.Configuration(tlsConfiguration: tls)
            longPolls.timeout = .init(connect: .seconds(1), read: .seconds(45))
            longPolls.connectionPool.retryConnectionEstablishment = false
            let clients = AuthServerHTTPClients(
                requests: HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: requests),
                longPolls: HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: longPolls)
            )
            made[caFile] = clients
            return clients
        }
    }
}
