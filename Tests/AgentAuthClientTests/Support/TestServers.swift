import AgentAuthCore
import AgentAuthHTTP
import AgentAuthMiddleware
import AgentAuthSQLite
import AgentAuthTesting
import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1

/// A real auth server (SQLite in a temp dir, its issuer its own URL, every background service
/// running) with `TokenEndpointFaults` in front of its token endpoint, and a real resource
/// server protected by the AgentAuth middleware, following the revocation feed. Both listen on
/// loopback sockets: the SDK talks to them over HTTP as an agent would.
struct TestServers: Sendable {
    let issuer: String
    let api: String
    let store: SQLiteStore
    let faults: TokenEndpointFaults
    let adminKey: String
    let clock: SharedClock

    var tokenURL: String { issuer + "/oauth/token" }

    static func with(clock: SharedClock = SharedClock(), _ body: @Sendable (TestServers) async throws -> Void) async throws {
        try await TestAuthServer.with { server in
            let logger = TestAuthServer.quietLogger
            let faults = TokenEndpointFaults()
            let introspectionKey = try await server.introspectionKey()
            try await server.serve(now: clock.date, logger: logger, wrap: { FaultInjectingResponder(inner: $0, faults: faults) }) { auth in
                let issuer = auth.url
                try await LoopbackServer.run { port, onRunning in
                    let feed = RevocationFeedFollower(authServer: issuer, credential: introspectionKey, waitSeconds: 1, logger: logger)
                    let tokens = TokenVerifier(
                        policy: .init(issuer: issuer, audiences: ["agentauth"]),
                        keys: RemoteJWKS(authServer: issuer, logger: logger),
                        revocations: feed.revocations,
                        now: clock.date
                    )
                    let router = Router(context: AgentAuthRequestContext.self)
                    router.add(middleware: JSONErrorMiddleware())
                    router.group("v1")
                        .add(
                            middleware: ResourceAuthenticator(
                                introspection: IntrospectionClient(authServer: issuer, introspectionKey: introspectionKey),
                                tokens: tokens
                            )
                        )
                        .add(middleware: RequireScope(Scope("conversations:read")!))
                        .get("conversations") { _, _ in ["conversations": [String]()] }
                    // Where a redirect would lead an authenticated request that followed it.
                    router.get("redirect") { _, _ in
                        Response(status: .temporaryRedirect, headers: [.location: "http://127.0.0.1:\(port)/v1/conversations"])
                    }
                    return Application(
                        router: router,
                        server: .agentAuthHTTP1(),
                        configuration: .init(address: .hostname("127.0.0.1", port: port)),
                        services: [feed],
                        onServerRunning: onRunning,
                        logger: logger
                    )
                } _: { apiPort in
                    let servers = TestServers(
                        issuer: issuer,
                        api: "http://127.0.0.1:\(apiPort)",
                        store: server.store,
                        faults: faults,
                        adminKey: server.adminKey,
                        clock: clock
                    )
                    try await servers.waitUntilUp()
                    try await body(servers)
                }
            }
        }
    }

    private func waitUntilUp() async throws {
        for url in [issuer + "/healthz", api + "/v1/conversations"] {
            var up = false
            for _ in 0..<200 where !up {
                var request = HTTPClientRequest(url: url)
                request.method = .GET
                if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(1)) {
                    _ = try? await response.body.collect(upTo: 1 << 16)
                    up = true
                } else {
                    try await Task.sleep(for: .milliseconds(25))
                }
            }
            guard up else { throw TestFailure("\(url) did not come up") }
        }
    }

    // MARK: Agents and clients

    /// A new agent with an OAuth client (`client_secret_basic` unless a JWKS is given).
    func client(
        agentName: String = "research-agent",
        scope: String = "conversations:read billing:read",
        tokenTTL: Int? = nil,
        authMethod: ClientAuthMethod = .clientSecretBasic,
        jwks: String? = nil
    ) async throws -> (agentID: String, clientID: String, secret: String?) {
        let agent = try await AgentAdministration(store: store).createAgent(name: agentName, by: .test)
        let issued = try await ClientAdministration(store: store).createClient(
            agentID: agent.id,
            ClientRequest(scope: scope, tokenTTL: tokenTTL, authMethod: authMethod.rawValue, jwks: jwks),
            by: .test
        )
        return (agent.id, issued.client.clientID, issued.secret)
    }

    /// RFC 7662 introspection of `token`, as the resource server would do it.
    func introspect(_ token: String) async throws -> [String: Any] {
        let (_, body) = try await adminForm("/oauth/introspect", token: token)
        return (try JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
    }

    /// RFC 7009 revocation of `token` by the admin.
    func revoke(_ token: String) async throws {
        let (status, _) = try await adminForm("/oauth/revoke", token: token)
        guard status == .ok else { throw TestFailure("revocation answered \(status.code)") }
    }

    /// `POST path` with the form `token=…` and the admin key.
    private func adminForm(_ path: String, token: String) async throws -> (status: HTTPResponseStatus, body: ByteBuffer) {
        var request = HTTPClientRequest(url: issuer + path)
        request.method = .POST
        request.headers.add(name: "X-API-Key", value: adminKey)
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: "token=" + FormURLEncoding.encode(token)))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        return (response.status, try await response.body.collect(upTo: 1 << 16))
    }

    /// The status the resource server gives `token` now.
    func apiStatus(bearer token: String) async throws -> Int {
        var request = HTTPClientRequest(url: api + "/v1/conversations")
        request.headers.add(name: "Authorization", value: "Bearer " + token)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        _ = try await response.body.collect(upTo: 1 << 16)
        return Int(response.status.code)
    }
}
