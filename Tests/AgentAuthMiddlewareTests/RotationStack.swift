import AgentAuthCore
import AgentAuthHTTP
import AgentAuthMiddleware
import AgentAuthSQLite
import AgentAuthStoreConformance
import Foundation
import HTTPTypes
import Hummingbird
import JWTKit
import Logging
import Synchronization
import Testing

@testable import AgentAuthServer

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
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agentauth-rotation-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("auth.sqlite").path)
        let masterKey = MasterKey.generate().key
        let administration = AgentAdministration(store: store)
        let (admin, adminKey) = try #require(try await administration.initialize(masterKey: masterKey))
        let gateway = try await administration.createAgent(name: "resource server", by: .test)
        let introspectionKey = try await APIKeyAdministration(store: administration.store).createAPIKey(
            agentID: gateway.id,
            APIKeyRequest(scopes: ["introspect"]),
            by: .test
        ).plaintext
        var logger = Logger(label: "agentauth-rotation-test")
        logger.logLevel = .critical
        let clock = OffsetClock()

        let authPort = try LoopbackPort.free()
        let auth = "http://127.0.0.1:\(authPort)"
        let configuration = ServerConfiguration(host: "127.0.0.1", port: authPort, issuer: auth, signingKeyActivationDelay: activationDelay)
        let components = ServerComponents(configuration: configuration, store: store, masterKey: masterKey, now: clock.now)
        try await components.prepare()
        let authApp = Application(
            router: buildRouter(components: components),
            server: .agentAuthHTTP1(),
            configuration: .init(address: .hostname("127.0.0.1", port: authPort)),
            services: backgroundServices(components: components, logger: logger),
            logger: logger
        )

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
        let apiPort = try LoopbackPort.free()
        let router = Router(context: AgentAuthRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())
        router.get("healthz") { _, _ in HTTPResponse.Status.ok }
        router.group("v1").add(middleware: ResourceAuthenticator(introspection: nil, tokens: tokens, feed: feed))
            .group("conversations").add(middleware: RequireScope(Scope("conversations:read")!)).get { _, _ in ["ok": true] }
        let apiApp = Application(
            router: router,
            server: .agentAuthHTTP1(),
            configuration: .init(address: .hostname("127.0.0.1", port: apiPort)),
            services: [feed, jwks],
            logger: logger
        )

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await authApp.run() }
            group.addTask { try await apiApp.run() }
            defer { group.cancelAll() }
            let stack = RotationStack(
                auth: auth,
                api: "http://127.0.0.1:\(apiPort)",
                store: store,
                masterKey: masterKey,
                adminKey: adminKey.plaintext,
                agentID: admin.id,
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
