import AgentAuthCore
import AgentAuthHTTP
import AgentAuthMiddleware
import AgentAuthSQLite
import AgentAuthServer
import AgentAuthTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import NIOCore
import Testing

/// Bearer tokens at a resource server: verified locally against the issuer's JWKS, found
/// through its RFC 8414 metadata over real HTTP.
@Suite("Resource-server middleware: Bearer tokens")
struct BearerMiddlewareTests {
    struct Server: Sendable {
        let base: String
        let store: SQLiteStore
        let masterKey: MasterKey
        let adminKey: String
    }

    /// A live auth server whose issuer is its own URL.
    static func withAuthServer(
        activationDelay: Duration = .seconds(SigningKeyRing.defaultActivationDelay),
        _ body: @Sendable (Server) async throws -> Void
    ) async throws {
        try await TestAuthServer.with { server in
            try await server.serve(configure: { $0.signingKeyActivationDelay = activationDelay }) { auth in
                try await body(Server(base: auth.url, store: server.store, masterKey: server.masterKey, adminKey: server.adminKey))
            }
        }
    }

    static func token(_ server: Server, scope: String, audience: [String]? = nil) async throws -> String {
        let agent = try await AgentAdministration(store: server.store).createAgent(name: "caller", by: .test)
        let issued = try await ClientAdministration(store: server.store).createClient(
            agentID: agent.id,
            ClientRequest(scope: scope, audiences: audience),
            by: .test
        )
        let response = try await HTTPTestClient.post(
            server.base + "/oauth/token",
            form: "grant_type=client_credentials",
            basic: (issued.client.clientID, try #require(issued.secret))
        )
        return try #require(response.json["access_token"] as? String)
    }

    static func router(_ server: Server, jwks: RemoteJWKS, audience: String = "agentauth") -> Router<AgentAuthRequestContext> {
        router(base: server.base, jwks: jwks, audience: audience)
    }

    static func router(base: String, jwks: RemoteJWKS, audience: String = "agentauth") -> Router<AgentAuthRequestContext> {
        let tokens = TokenVerifier(policy: .init(issuer: base, audiences: [audience]), keys: jwks)
        let router = Router(context: AgentAuthRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())
        let protected = router.group("v1").add(middleware: ResourceAuthenticator(introspection: nil, tokens: tokens))
        protected.group("conversations").add(middleware: RequireScope(Scope("conversations:read")!)).get { _, _ in ["ok": true] }
        protected.group("billing/balance").add(middleware: RequireScope(Scope("billing:read")!)).get { _, _ in ["ok": true] }
        return router
    }

    static func get(_ client: any TestClientProtocol, _ path: String, bearer token: String) async throws -> TestResponse {
        try await client.executeRequest(uri: path, method: .get, headers: [.authorization: "Bearer \(token)"], body: nil)
    }

    @Test("a token is accepted on the route its scope allows and refused with 403 on the other")
    func scopes() async throws {
        try await Self.withAuthServer { server in
            let token = try await Self.token(server, scope: "conversations:read")
            let jwks = RemoteJWKS(authServer: server.base)
            try await Application(router: Self.router(server, jwks: jwks)).test(.router) { client in
                let ok = try await Self.get(client, "/v1/conversations", bearer: token)
                #expect(ok.status == .ok)
                let forbidden = try await Self.get(client, "/v1/billing/balance", bearer: token)
                #expect(forbidden.status == .forbidden)
                #expect(forbidden.headers[.wwwAuthenticate] == #"Bearer error="insufficient_scope", scope="billing:read""#)
                // Verification is local: many requests, one fetch.
                for _ in 0..<20 {
                    _ = try await Self.get(client, "/v1/conversations", bearer: token)
                }
                #expect(await jwks.fetchCount == 1)
            }
        }
    }

    @Test("wrong audience, forged and unknown-kid tokens → 401; unknown kids refetch at most once per cool-down")
    func forgedAndUnknownKids() async throws {
        try await Self.withAuthServer { server in
            let otherAudience = try await Self.token(server, scope: "conversations:read", audience: ["https://elsewhere.example"])
            let valid = try await Self.token(server, scope: "conversations:read")
            let attacker = try await SigningKeyMaterial.generate(.eddsa).material
            let parts = valid.split(separator: ".")
            let forgedInput = Base64URL.encode(Data(#"{"alg":"EdDSA","kid":"\#(attacker.kid)","typ":"at+jwt"}"#.utf8)) + "." + parts[1]
            let forged = forgedInput + "." + Base64URL.encode(try attacker.jwtAlgorithm.sign(Array(forgedInput.utf8)))
            let jwks = RemoteJWKS(authServer: server.base, coolDown: .seconds(60))
            try await Application(router: Self.router(server, jwks: jwks)).test(.router) { client in
                for token in [otherAudience, forged, String(valid.dropLast(3)), valid + "x"] {
                    let response = try await Self.get(client, "/v1/conversations", bearer: token)
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.wwwAuthenticate]?.hasPrefix(#"Bearer error="invalid_token""#) == true)
                }
                for _ in 0..<50 {
                    _ = try await Self.get(client, "/v1/conversations", bearer: forged)
                }
                #expect(await jwks.fetchCount == 2, "the first load, one refetch for the first unknown kid, then nothing within the cool-down")
                let ok = try await Self.get(client, "/v1/conversations", bearer: valid)
                #expect(ok.status == .ok)
            }
        }
    }

    @Test("after a rotation the new kid is fetched on first sight and the old token still verifies")
    func rotation() async throws {
        // No activation delay and no feed: the new key signs at once, and its first token finds it unknown.
        try await Self.withAuthServer(activationDelay: .zero) { server in
            let before = try await Self.token(server, scope: "conversations:read")
            // The default 30 s cool-down: the first load does not start it, so the new kid is fetched at once.
            let jwks = RemoteJWKS(authServer: server.base)
            try await Application(router: Self.router(server, jwks: jwks)).test(.router) { client in
                #expect(
                    try await Self.get(client, "/v1/conversations", bearer: before)
                        .status == .ok
                )
                let rotated = try await HTTPTestClient.post(server.base + "/admin/signing-keys/rotate", form: "", apiKey: server.adminKey)
                #expect(rotated.status == 201)
                let after = try await Self.token(server, scope: "conversations:read")
                #expect(
                    try await Self.get(client, "/v1/conversations", bearer: after)
                        .status == .ok
                )
                #expect(
                    try await Self.get(client, "/v1/conversations", bearer: before)
                        .status == .ok
                )
                #expect(await jwks.fetchCount == 2)
            }
        }
    }

    @Test("metadata naming another issuer is refused: tokens fail closed with 503")
    func issuerMismatch() async throws {
        try await Self.withAuthServer { server in
            let token = try await Self.token(server, scope: "conversations:read")
            let jwks = RemoteJWKS(authServer: server.base, issuer: "https://pretender.example")
            try await Application(router: Self.router(server, jwks: jwks)).test(.router) { client in
                let response = try await Self.get(client, "/v1/conversations", bearer: token)
                #expect(response.status == .serviceUnavailable)
            }
        }
    }

    @Test("the issuer unreachable → 503 with Retry-After for Bearer tokens, not 401")
    func issuerDown() async throws {
        let port = try LoopbackPort.free()
        let base = "http://127.0.0.1:\(port)"
        let jwks = RemoteJWKS(authServer: base)
        let key = try await SigningKeyMaterial.generate(.eddsa).material
        let now = Int(Date().timeIntervalSince1970)
        let payload =
            #"{"iss":"\#(base)","sub":"agt_x","client_id":"c","aud":"agentauth","exp":\#(now + 60),"iat":\#(now),"jti":"j","scope":"conversations:read"}"#
        let input = Base64URL.encode(Data(#"{"alg":"EdDSA","kid":"\#(key.kid)","typ":"at+jwt"}"#.utf8)) + "." + Base64URL.encode(Data(payload.utf8))
        let token = input + "." + Base64URL.encode(try key.jwtAlgorithm.sign(Array(input.utf8)))
        try await Application(router: Self.router(base: base, jwks: jwks)).test(.router) { client in
            let response = try await Self.get(client, "/v1/conversations", bearer: token)
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers[.retryAfter] != nil)
        }
    }
}

@Suite("Revocation feed: a deny-list longer than one page")
struct RevocationFeedPagingTests {
    @Test("tokens are not verified from memory until every page is in: a token revoked in the third page is never accepted")
    func halfLoadedListIsNotTrusted() async throws {
        try await BearerMiddlewareTests.withAuthServer { server in
            let agent = try await AgentAdministration(store: server.store).createAgent(name: "revoker", by: .test)
            let now = Date()
            for index in 0..<2_500 {
                _ = try await server.store.revokeToken(jti: "at_seed\(index)", agentID: agent.id, expiresAt: now.addingTimeInterval(3600), at: now)
            }
            _ = try await server.store.revokeToken(jti: "at_last", agentID: agent.id, expiresAt: now.addingTimeInterval(3600), at: now)
            let key = try await APIKeyAdministration(store: server.store).createAPIKey(
                agentID: agent.id,
                APIKeyRequest(scopes: ["introspect"]),
                by: .test
            )
            let feed = RevocationFeedFollower(authServer: server.base, credential: key.plaintext, waitSeconds: 1)
            // Written behind the server's back (as the CLI would): its revocation sync sees them within 100 ms.
            try await Task.sleep(for: .milliseconds(500))

            try await feed.pollOnce()
            #expect(feed.revocations.revokedTokenCount == 1_000)
            #expect(!feed.hasSynced && !feed.acceptsTokens && !feed.isFresh, "one page of three: nothing is verified from the list yet")
            try await feed.pollOnce()
            #expect(!feed.acceptsTokens)
            try await feed.pollOnce()
            #expect(feed.acceptsTokens && feed.isFresh, "the last page is in")
            #expect(feed.revocations.revokedTokenCount == 2_501, "cursor \(feed.revocations.cursor)")
            #expect(feed.revocations.isRevoked(tokenIDs: ["at_last"], agentIDs: [], clientID: nil, issuedAt: now))
        }
    }
}
