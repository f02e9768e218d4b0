import AgentAuthCore
import AgentAuthHTTP
import AgentAuthMiddleware
import AgentAuthSQLite
import AgentAuthServer
import AgentAuthTesting
import Foundation
import HTTPTypes
import Hummingbird
import JWTKit
import Synchronization
import Testing

/// Wall-clock time plus an offset the test moves: the auth server and the resource server read
/// the same one, so a retired key's minute of publication passes in a moment.
final class OffsetClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)

    var now: @Sendable () -> Date { { Date().addingTimeInterval(self.offset.withLock { $0 }) } }

    func advance(_ seconds: TimeInterval) {
        offset.withLock { $0 += seconds }
    }
}

/// A live auth server (SQLite, every background service) and a live resource server wired as
/// `example-agent-api` wires itself (`RemoteJWKS` refetching on a schedule and following the
/// revocation feed, a verified-token cache), on loopback sockets, sharing one `OffsetClock`.
struct RotationStack: Sendable {
    let auth: String
    let api: String
    let store: SQLiteStore
    let masterKey: MasterKey
    let adminKey: String
    /// The admin agent: forged tokens name it, since the auth server checks that a token's agent exists.
    let agentID: String
    let introspectionKey: String
    let clock: OffsetClock
    let jwks: RemoteJWKS
    let feed: RevocationFeedFollower

    /// - Parameters:
    ///   - followRotations: whether the feed tells the JWKS of rotations (`false`: only the schedule drops keys).
    static func with(
        activationDelay: Duration,
        refreshInterval: Duration = .seconds(300),
        followRotations: Bool = true,
        _ body: @Sendable (RotationStack) async throws -> Void
    ) async throws {
        try await TestAuthServer.with { server in
            let introspectionKey = try await server.introspectionKey(agentName: "resource server")
            let logger = TestAuthServer.quietLogger
            let clock = OffsetClock()
            try await server.serve(now: clock.now, logger: logger, configure: { $0.signingKeyActivationDelay = activationDelay }) { authServer in
                let auth = authServer.url
                let jwks = RemoteJWKS(authServer: auth, refreshInterval: refreshInterval, logger: logger, now: clock.now)
                let feed = RevocationFeedFollower(
                    authServer: auth,
                    credential: introspectionKey,
                    keySource: followRotations ? jwks : nil,
                    waitSeconds: 1,
                    logger: logger
                )
                let tokens = TokenVerifier(
                    policy: .init(issuer: auth, audiences: ["agentauth"]),
                    keys: jwks,
                    revocations: feed.revocations,
                    cache: VerifiedTokenCache(),
                    now: clock.now
                )
                let router = Router(context: AgentAuthRequestContext.self)
                router.add(middleware: JSONErrorMiddleware())
                router.get("healthz") { _, _ in HTTPResponse.Status.ok }
                router.group("v1").add(middleware: ResourceAuthenticator(introspection: nil, tokens: tokens, feed: feed))
                    .group("conversations").add(middleware: RequireScope(Scope("conversations:read")!)).get { _, _ in ["ok": true] }
                try await LoopbackServer.run { apiPort, onRunning in
                    Application(
                        router: router,
                        server: .agentAuthHTTP1(),
                        configuration: .init(address: .hostname("127.0.0.1", port: apiPort)),
                        services: [feed, jwks],
                        onServerRunning: onRunning,
                        logger: logger
                    )
                } _: { apiPort in
                    let stack = RotationStack(
                        auth: auth,
                        api: "http://127.0.0.1:\(apiPort)",
                        store: server.store,
                        masterKey: server.masterKey,
                        adminKey: server.adminKey,
                        agentID: server.adminAgentID,
                        introspectionKey: introspectionKey,
                        clock: clock,
                        jwks: jwks,
                        feed: feed
                    )
                    let up = try await stack.eventually(within: .seconds(10)) {
                        let authUp = (try? await HTTPTestClient.get(auth + "/healthz"))?.status == 200
                        let apiUp = (try? await HTTPTestClient.get(stack.api + "/healthz"))?.status == 200
                        return authUp && apiUp && feed.acceptsTokens
                    }
                    try #require(up != nil, "the servers came up and the feed answered")
                    try await body(stack)
                }
            }
        }
    }

    /// Polls `check` until it holds; how long that took, or `nil` when it did not within `limit`.
    func eventually(within limit: Duration, _ check: () async throws -> Bool) async throws -> Duration? {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < limit {
            if try await check() { return ContinuousClock.now - start }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// A client-credentials token of a new client, signed by whichever key the server signs with now.
    func token() async throws -> String {
        let agent = try await AgentAdministration(store: store).createAgent(name: "caller", by: .test)
        let issued = try await ClientAdministration(store: store).createClient(
            agentID: agent.id,
            ClientRequest(scope: "conversations:read"),
            by: .test
        )
        let response = try await HTTPTestClient.post(
            auth + "/oauth/token",
            form: "grant_type=client_credentials",
            basic: (issued.client.clientID, try #require(issued.secret))
        )
        return try #require(response.json["access_token"] as? String, "\(response.body)")
    }

    /// The key the server signs with now, as a thief who copied the database and the master key holds it.
    func leakedKey() async throws -> SigningKeyMaterial {
        try await SigningKeyRing(store: store, masterKey: masterKey, now: clock.now).activeKey()
    }

    /// A token the holder of `key` mints: valid claims for a day, in the stack's time.
    func forge(with key: SigningKeyMaterial, kid: String? = nil) throws -> String {
        let now = Int(clock.now().timeIntervalSince1970)
        let header = #"{"alg":"\#(key.algorithm.rawValue)","kid":"\#(kid ?? key.kid)","typ":"at+jwt"}"#
        let payload =
            #"{"iss":"\#(auth)","sub":"\#(agentID)","client_id":"cli_thief","aud":"agentauth","exp":\#(now + 86_400),"iat":\#(now),"nbf":\#(now),"jti":"at_\#(UUID().uuidString)","scope":"conversations:read"}"#
        let input = Base64URL.encode(Data(header.utf8)) + "." + Base64URL.encode(Data(payload.utf8))
        return input + "." + Base64URL.encode(try key.jwtAlgorithm.sign(Array(input.utf8)))
    }

    /// The resource server's answer to `token`.
    func status(_ token: String) async throws -> Int {
        try await HTTPTestClient.get(api + "/v1/conversations", bearer: token).status
    }

    /// Whether the auth server's introspection calls `token` active.
    func introspectionActive(_ token: String) async throws -> Bool {
        let response = try await HTTPTestClient.post(auth + "/oauth/introspect", form: "token=\(token)", apiKey: adminKey)
        return response.json["active"] as? Bool == true
    }

    /// `POST /admin/signing-keys/rotate`: the new kid.
    func rotate() async throws -> String {
        let response = try await HTTPTestClient.post(auth + "/admin/signing-keys/rotate", form: "", apiKey: adminKey)
        #expect(response.status == 201)
        return try #require(response.json["kid"] as? String)
    }

    /// When the retired key `kid` leaves the JWKS, as stored.
    func publishedUntil(_ kid: String) async throws -> Date {
        try #require(try await store.signingKeys().first { $0.kid == kid }?.publishedUntil)
    }

    static func kid(of token: String) -> String? {
        let header = Base64URL.decode(token.split(separator: ".")[0].utf8).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        return header?["kid"] as? String
    }
}
