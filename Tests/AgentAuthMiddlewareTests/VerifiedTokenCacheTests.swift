import AgentAuthCore
import AgentAuthHTTP
import AgentAuthMiddleware
import AgentAuthSQLite
import AgentAuthTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// The verified-token cache behind a resource server's `ResourceAuthenticator`: a token seen
/// before skips decoding and the signature check, but never the revocation check, never lives
/// past its `exp`, and the cache never holds more than its capacity.
@Suite("Resource-server middleware: verified-token cache")
struct VerifiedTokenCacheTests {
    /// A clock the tests move by hand.
    final class ManualClock: Sendable {
        private let current = Mutex(Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)))
        var now: @Sendable () -> Date { { self.current.withLock { $0 } } }
        func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    struct Fixture: Sendable {
        let issuer: TokenIssuer
        let keys: SigningKeyRing
        let agentID: String
        let clock: ManualClock
        let revocations = RevocationList()

        func token(lifetime: Int = 600, ancestors: [String] = []) async throws -> TokenIssuer.IssuedToken {
            try await issuer.issue(
                subject: agentID,
                clientID: "cli_cache",
                audience: ["agentauth"],
                scope: try ScopeSet(parsing: "conversations:read"),
                lifetime: lifetime,
                ancestors: ancestors
            )
        }

        func verifier(cache: VerifiedTokenCache, leeway: TimeInterval = 0) -> TokenVerifier {
            TokenVerifier(
                policy: .init(issuer: "https://auth.example", audiences: ["agentauth"], leeway: leeway),
                keys: keys,
                revocations: revocations,
                cache: cache,
                now: clock.now
            )
        }
    }

    static func withFixture(_ body: @Sendable (Fixture) async throws -> Void) async throws {
        try await TestAuthServer.with { server in
            let clock = ManualClock()
            let keys = SigningKeyRing(store: server.store, masterKey: server.masterKey, now: clock.now)
            try await keys.reload()
            let issuer = TokenIssuer(issuer: "https://auth.example", keys: keys, now: clock.now)
            try await body(Fixture(issuer: issuer, keys: keys, agentID: server.adminAgentID, clock: clock))
        }
    }

    static func router(_ verifier: TokenVerifier) -> Router<AgentAuthRequestContext> {
        let router = Router(context: AgentAuthRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())
        router.group("v1").add(middleware: ResourceAuthenticator(introspection: nil, tokens: verifier))
            .group("conversations").add(middleware: RequireScope(Scope("conversations:read")!)).get { _, _ in ["ok": true] }
        return router
    }

    static func get(_ client: any TestClientProtocol, bearer token: String) async throws -> HTTPResponse.Status {
        try await client.executeRequest(uri: "/v1/conversations", method: .get, headers: [.authorization: "Bearer \(token)"], body: nil).status
    }

    @Test("a Unicode-equivalent spelling of a cached token (K → KELVIN SIGN) is refused: Strings compare by canonical equivalence")
    func unicodeEquivalentSpellingIsRefused() async throws {
        try await Self.withFixture { fixture in
            let cache = VerifiedTokenCache()
            let verifier = fixture.verifier(cache: cache)
            var issued = try await fixture.token()
            while !issued.token.contains("K") { issued = try await fixture.token() }
            let variant = issued.token.replacingOccurrences(of: "K", with: "\u{212A}")
            #expect(variant == issued.token, "Swift takes them for the same String")
            _ = try await verifier.verify(issued.token)
            #expect(cache.count == 1)
            await #expect(throws: TokenRejection.self, "the cached token's other spelling is not the token") {
                try await verifier.verify(variant)
            }
        }
    }

    @Test("a cached token is refused once its jti, an ancestor's jti or its agent is revoked")
    func revokedCachedTokenIsRefused() async throws {
        try await Self.withFixture { fixture in
            let cache = VerifiedTokenCache()
            let verifier = fixture.verifier(cache: cache)
            let plain = try await fixture.token()
            let derived = try await fixture.token(ancestors: ["at_parent_of_derived"])
            try await Application(router: Self.router(verifier)).test(.router) { client in
                let plainFirst = try await Self.get(client, bearer: plain.token)
                #expect(plainFirst == .ok)
                let derivedFirst = try await Self.get(client, bearer: derived.token)
                #expect(derivedFirst == .ok)
                #expect(cache.count == 2, "both tokens are cached after their first verification")

                fixture.revocations.apply([
                    RevocationEvent(
                        seq: 1,
                        kind: .token,
                        subject: plain.claims.tokenID,
                        agentID: fixture.agentID,
                        at: fixture.clock.now(),
                        expiresAt: plain.claims.expiresAt
                    )
                ])
                let plainRevoked = try await Self.get(client, bearer: plain.token)
                #expect(plainRevoked == .unauthorized)

                fixture.revocations.apply([
                    RevocationEvent(
                        seq: 2,
                        kind: .token,
                        subject: "at_parent_of_derived",
                        agentID: fixture.agentID,
                        at: fixture.clock.now(),
                        expiresAt: derived.claims.expiresAt
                    )
                ])
                let derivedRevoked = try await Self.get(client, bearer: derived.token)
                #expect(derivedRevoked == .unauthorized)
            }
            // The agent's disable watermark refuses a cached token issued before it.
            let other = try await fixture.token()
            _ = try await verifier.verify(other.token)
            #expect(cache.claims(for: other.token, now: fixture.clock.now()) != nil)
            fixture.revocations.apply([
                RevocationEvent(seq: 3, kind: .agent, subject: fixture.agentID, agentID: fixture.agentID, at: fixture.clock.now())
            ])
            await #expect(throws: TokenRejection.revoked) { try await verifier.verify(other.token) }
        }
    }

    @Test("a cached token is not served past its exp, and is refused once verification refuses it")
    func expiredCachedTokenIsRefused() async throws {
        try await Self.withFixture { fixture in
            let cache = VerifiedTokenCache()
            let verifier = fixture.verifier(cache: cache)
            let issued = try await fixture.token(lifetime: 60)
            try await Application(router: Self.router(verifier)).test(.router) { client in
                let fresh = try await Self.get(client, bearer: issued.token)
                #expect(fresh == .ok)
                #expect(cache.claims(for: issued.token, now: fixture.clock.now()) != nil)
                fixture.clock.advance(59)
                let beforeExpiry = try await Self.get(client, bearer: issued.token)
                #expect(beforeExpiry == .ok)
                fixture.clock.advance(1)
                #expect(cache.claims(for: issued.token, now: fixture.clock.now()) == nil, "the entry dies at exp")
                let atExpiry = try await Self.get(client, bearer: issued.token)
                #expect(atExpiry == .unauthorized)
                #expect(cache.count == 0, "a refused token is not cached")
            }
        }
    }

    @Test("the cache holds at most its capacity; tokens beyond it are still verified in full")
    func boundIsRespected() async throws {
        try await Self.withFixture { fixture in
            let cache = VerifiedTokenCache(capacity: 4)
            let verifier = fixture.verifier(cache: cache)
            var issued: [TokenIssuer.IssuedToken] = []
            for index in 0..<10 { issued.append(try await fixture.token(lifetime: 600 + index)) }
            let tokens = issued
            try await Application(router: Self.router(verifier)).test(.router) { client in
                for token in tokens {
                    let first = try await Self.get(client, bearer: token.token)
                    #expect(first == .ok)
                    #expect(cache.count <= 4)
                }
                // Every token, cached or evicted, still verifies; a tampered one never does.
                for token in tokens {
                    let again = try await Self.get(client, bearer: token.token)
                    #expect(again == .ok)
                }
                // The signature's first character carries six whole bits, so a different one is a different
                // signature (the last characters may carry padding bits, or already be the ones put there).
                let signed = tokens[9].token
                let signatureStart = signed.index(after: signed.lastIndex(of: ".")!)
                let replacement: Character = signed[signatureStart] == "A" ? "B" : "A"
                let forged = signed.replacingCharacters(in: signatureStart...signatureStart, with: String(replacement))
                let tampered = try await Self.get(client, bearer: forged)
                #expect(tampered == .unauthorized)
            }
            #expect(cache.count <= 4)
            #expect(cache.count >= 1)
        }
    }

    @Test("a verifier with another policy does not share the cache")
    func policiesDoNotShareTheCache() async throws {
        try await Self.withFixture { fixture in
            let cache = VerifiedTokenCache()
            let verifier = fixture.verifier(cache: cache)
            let issued = try await fixture.token()
            _ = try await verifier.verify(issued.token)
            #expect(cache.count == 1)
            let elsewhere = verifier.with(policy: .init(issuer: "https://auth.example", audiences: ["https://elsewhere.example"]))
            #expect(elsewhere.cache == nil)
            await #expect(throws: TokenRejection.wrongAudience) { try await elsewhere.verify(issued.token) }
        }
    }
}
