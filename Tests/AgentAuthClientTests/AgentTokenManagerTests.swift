import AgentAuthCore
import AgentAuthStoreConformance
import Crypto
import Foundation
import HTTPTypes
import JWTKit
import Testing

@testable import AgentAuthClient

@Suite("AgentTokenManager against a real auth server")
struct AgentTokenManagerTests {
    @Test("100 concurrent token() calls → exactly one token request, one token for all")
    func concurrentCallersShareOneRequest() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient()
            let tokens = servers.manager(credentials)
            let results = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<100 { group.addTask { try await tokens.token() } }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(results.count == 100)
            #expect(Set(results).count == 1, "every caller got the same token")
            #expect(servers.faults.count == 1, "one token request for 100 callers")
            #expect(try await servers.apiStatus(bearer: results[0]) == 200)
            _ = try await tokens.token()
            #expect(servers.faults.count == 1, "cached afterwards")
        }
    }

    @Test("refresh happens inside the 60 s margin, not before")
    func refreshInsideMarginNotBefore() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient(tokenTTL: 300)
            let tokens = servers.manager(credentials)
            let first = try await tokens.token()
            servers.clock.advance(.seconds(239))
            #expect(try await tokens.token() == first, "61 s before expiry the token is still used")
            #expect(servers.faults.count == 1)
            servers.clock.advance(.seconds(2))
            let second = try await tokens.token()
            #expect(second != first, "59 s before expiry a new token is fetched")
            #expect(servers.faults.count == 2)
            #expect(try await servers.apiStatus(bearer: second) == 200)
        }
    }

    @Test("a token shorter-lived than twice the margin is refreshed at half its life, not on every call")
    func shortLivedTokenUsesHalfItsLifetime() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient(tokenTTL: 60)
            let tokens = servers.manager(credentials, refreshMargin: .seconds(60))
            let first = try await tokens.token()
            servers.clock.advance(.seconds(29))
            #expect(try await tokens.token() == first)
            #expect(try await tokens.token() == first)
            #expect(servers.faults.count == 1)
            servers.clock.advance(.seconds(2))
            #expect(try await tokens.token() != first)
            #expect(servers.faults.count == 2)
        }
    }

    @Test("503 twice (one with Retry-After: 1), then 200 → a token, after backing off")
    func retriesServerErrors() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient()
            servers.faults.failNext(.init(status: .serviceUnavailable, retryAfter: 1), .init(status: .serviceUnavailable))
            let token = try await servers.manager(credentials).token()
            #expect(try await servers.apiStatus(bearer: token) == 200)
            let arrivals = servers.faults.arrivals
            #expect(arrivals.count == 3, "two failures, then the success")
            #expect(arrivals[1].at - arrivals[0].at >= .milliseconds(950), "Retry-After: 1 was waited for")
        }
    }

    @Test("5xx through every attempt → AgentAuthClientError.unavailable after maxAttempts requests")
    func retriesEndAtTheLimit() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient()
            servers.faults.failNext(.init(status: .badGateway), .init(status: .serviceUnavailable), .init(status: .internalServerError))
            let tokens = servers.manager(credentials, retry: RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(10)))
            await #expect {
                try await tokens.token()
            } throws: { error in
                guard case .unavailable(let attempts, _) = error as? AgentAuthClientError else { return false }
                return attempts == 3
            }
            #expect(servers.faults.count == 3)
        }
    }

    @Test("nothing listening → each attempt fails fast, and the manager stops after maxAttempts with unavailable")
    func unreachableEndpoint() async throws {
        let port = try LoopbackPort.free()
        let tokens = AgentTokenManager(
            tokenURL: "http://127.0.0.1:\(port)/oauth/token",
            clientID: "cli_nobody",
            clientSecret: SecretFormat.clientSecret.generate(),
            configuration: .init(retry: RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(10)))
        )
        let error = await #expect(throws: AgentAuthClientError.self) { try await tokens.token() }
        guard case .unavailable(let attempts, let reason) = error else {
            Issue.record("expected unavailable, got \(String(describing: error))")
            return
        }
        #expect(attempts == 3)
        #expect(!reason.contains("cs-agent-"), "no secret in the reason")
    }

    @Test("a Retry-After longer than the policy allows ends the retries at once")
    func retryAfterBeyondPolicy() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient()
            servers.faults.failNext(.init(status: .serviceUnavailable, retryAfter: 3600))
            let tokens = servers.manager(credentials)
            await #expect(throws: AgentAuthClientError.self) { try await tokens.token() }
            #expect(servers.faults.count == 1)
        }
    }

    @Test("a wrong secret → TokenRequestError invalid_client after exactly one request")
    func invalidClientIsTypedAndFinal() async throws {
        try await TestServers.with { servers in
            let registered = try await servers.client()
            let wrong = ClientAuthentication.clientSecretBasic(clientID: registered.clientID, clientSecret: SecretFormat.clientSecret.generate())
            let tokens = servers.manager(wrong)
            let error = await #expect(throws: TokenRequestError.self) { try await tokens.token() }
            #expect(error?.code == .invalidClient)
            #expect(error?.status == 401)
            #expect(servers.faults.count == 1, "a 4xx is not retried")
            #expect(!(error.map { "\($0)" } ?? "").contains("cs-agent-"), "no secret in the error")
        }
    }

    @Test("a scope the client may not have → TokenRequestError invalid_scope, one request")
    func invalidScopeIsTyped() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient(scope: "conversations:read")
            let tokens = servers.manager(credentials, scope: "admin")
            let error = await #expect(throws: TokenRequestError.self) { try await tokens.token() }
            #expect(error?.code == .invalidScope)
            #expect(error?.status == 400)
            #expect(servers.faults.count == 1)
        }
    }

    @Test("a cancelled caller stops waiting at once; the refresh it shared goes on for the others")
    func cancelledCallerDoesNotCancelTheRefresh() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient()
            servers.faults.failNext(.init(status: .serviceUnavailable, retryAfter: 1))
            let tokens = servers.manager(credentials)
            let cancelled = Task { try await tokens.token() }
            while servers.faults.count == 0 { try await Task.sleep(for: .milliseconds(5)) }
            let patient = Task { try await tokens.token() }
            try await Task.sleep(for: .milliseconds(50))
            cancelled.cancel()
            let outcome = await cancelled.result
            #expect(throws: CancellationError.self) { try outcome.get() }
            #expect(servers.faults.count == 1, "the cancelled caller returned while the refresh still waited out Retry-After")
            let token = try await patient.value
            #expect(servers.faults.count == 2, "the shared refresh finished: one retry, no new request for the second caller")
            #expect(try await servers.apiStatus(bearer: token) == 200)
        }
    }

    @Test("a refresh that fails for a passing reason inside the margin hands out the still-valid token")
    func transientFailureKeepsTheValidToken() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient(tokenTTL: 300)
            let tokens = servers.manager(credentials, retry: RetryPolicy(maxAttempts: 2, initialBackoff: .milliseconds(10)))
            let first = try await tokens.token()
            servers.clock.advance(.seconds(250))
            servers.faults.failNext(.init(status: .serviceUnavailable), .init(status: .serviceUnavailable))
            #expect(try await tokens.token() == first, "50 s left: the current token still works")
            #expect(servers.faults.count == 3)
            let next = try await tokens.token()
            #expect(next != first, "the next call refreshes")
            #expect(servers.faults.count == 4)
            servers.clock.advance(.seconds(298))
            servers.faults.failNext(.init(status: .serviceUnavailable), .init(status: .serviceUnavailable))
            await #expect(throws: AgentAuthClientError.self, "2 s left is too little to hand out") { try await tokens.token() }
        }
    }

    @Test("invalidate(token) drops only that token; invalidate() drops any")
    func invalidation() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient()
            let tokens = servers.manager(credentials)
            let first = try await tokens.token()
            await tokens.invalidate("an-older-token")
            #expect(try await tokens.token() == first)
            await tokens.invalidate(first)
            let second = try await tokens.token()
            #expect(second != first)
            await tokens.invalidate()
            #expect(try await tokens.token() != second)
            #expect(servers.faults.count == 3)
        }
    }

    @Test("init(issuer:) finds the token endpoint in RFC 8414 metadata; metadata for another issuer is refused")
    func discovery() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient()
            let tokens = servers.manager(credentials, discover: true)
            let token = try await tokens.token()
            #expect(try await tokens.tokenEndpoint() == servers.tokenURL)
            #expect(try await servers.apiStatus(bearer: token) == 200)

            // The same server under another name: its metadata names 127.0.0.1, not localhost.
            let impostor = AgentTokenManager(issuer: servers.issuer.replacingOccurrences(of: "127.0.0.1", with: "localhost"), client: credentials)
            let error = await #expect(throws: AgentAuthClientError.self) { try await impostor.token() }
            guard case .discoveryFailed = error else {
                Issue.record("expected discoveryFailed, got \(String(describing: error))")
                return
            }
            #expect(servers.faults.count == 1, "no token request after failed discovery")
        }
    }

    @Test("client_secret_post works for a client registered for it")
    func clientSecretPost() async throws {
        try await TestServers.with { servers in
            let registered = try await servers.client(authMethod: .clientSecretPost)
            let post = ClientAuthentication.clientSecretPost(clientID: registered.clientID, clientSecret: registered.secret!)
            #expect(try await servers.apiStatus(bearer: try await servers.manager(post).token()) == 200)
            let basic = ClientAuthentication.clientSecretBasic(clientID: registered.clientID, clientSecret: registered.secret!)
            let error = await #expect(throws: TokenRequestError.self) { try await servers.manager(basic).token() }
            #expect(error?.code == .invalidClient, "the registered method is enforced")
        }
    }

    @Test("private_key_jwt with EdDSA and ES256 keys: a fresh assertion for every request")
    func privateKeyJWT() async throws {
        try await TestServers.with { servers in
            let ed25519 = Curve25519.Signing.PrivateKey()
            let edKey = EdDSA.PrivateKey(backing: ed25519)
            let edJWKS = #"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"ed-1","x":"\#(Base64URL.encode(ed25519.publicKey.rawRepresentation))"}]}"#
            let ecKey = ES256PrivateKey()
            let ec = try #require(ecKey.publicKey.parameters)
            let ecJWKS = #"{"keys":[{"kty":"EC","crv":"P-256","kid":"ec-1","x":"\#(ec.x)","y":"\#(ec.y)"}]}"#
            for (jwks, key) in [(edJWKS, PrivateKeyJWT(key: edKey, keyID: "ed-1")), (ecJWKS, PrivateKeyJWT(key: ecKey, keyID: "ec-1"))] {
                let registered = try await servers.client(authMethod: .privateKeyJWT, jwks: jwks)
                #expect(registered.secret == nil)
                let tokens = servers.manager(.privateKeyJWT(clientID: registered.clientID, key: key))
                let first = try await tokens.token()
                await tokens.invalidate()
                let second = try await tokens.token()
                #expect(first != second, "the second request's assertion was not taken for a replay")
                #expect(try await servers.apiStatus(bearer: second) == 200)
            }
        }
    }
}
