import AgentAuthCore
import AgentAuthTesting
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

    /// Polls until the manager hands out a token other than `old` (a refresh behind the callers landed).
    static func waitForNewToken(_ tokens: AgentTokenManager, replacing old: String) async throws -> String {
        for _ in 0..<400 {
            let token = try await tokens.token()
            if token != old { return token }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("the refresh behind the callers never landed")
    }

    /// Polls until the token endpoint has seen `count` requests.
    static func waitForRequests(_ servers: TestServers, _ count: Int) async throws {
        for _ in 0..<400 where servers.faults.count < count {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(servers.faults.count == count)
    }

    @Test("refresh happens inside the 60 s margin, not before; callers keep the valid token meanwhile")
    func refreshInsideMarginNotBefore() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient(tokenTTL: 300)
            let tokens = servers.manager(credentials)
            let first = try await tokens.token()
            servers.clock.advance(.seconds(239))
            #expect(try await tokens.token() == first, "61 s before expiry the token is still used")
            try await Task.sleep(for: .milliseconds(100))
            #expect(servers.faults.count == 1, "and no refresh starts")
            servers.clock.advance(.seconds(2))
            #expect(try await tokens.token() == first, "59 s before expiry: the valid token, while the refresh runs behind")
            let second = try await Self.waitForNewToken(tokens, replacing: first)
            #expect(servers.faults.count == 2)
            #expect(try await servers.apiStatus(bearer: second) == 200)
        }
    }

    @Test("a token about to expire (under 10 s left) is not handed out: callers wait for the new one")
    func nearlyExpiredTokenWaits() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient(tokenTTL: 300)
            let tokens = servers.manager(credentials)
            let first = try await tokens.token()
            servers.clock.advance(.seconds(291))
            let second = try await tokens.token()
            #expect(second != first)
            #expect(servers.faults.count == 2)
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
            try await Task.sleep(for: .milliseconds(100))
            #expect(servers.faults.count == 1)
            servers.clock.advance(.seconds(2))
            _ = try await tokens.token()
            _ = try await Self.waitForNewToken(tokens, replacing: first)
            #expect(servers.faults.count == 2)
        }
    }

    @Test("503 twice (one with Retry-After: 1), then 200 → a token, after backing off")
    func retriesServerErrors() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient()
            servers.faults.failNext(.unavailable(retryAfter: 1), .unavailable())
            let retry = RetryPolicy(maxAttempts: 4, initialBackoff: .milliseconds(200), maxBackoff: .seconds(1))
            let token = try await servers.manager(credentials, retry: retry).token()
            #expect(try await servers.apiStatus(bearer: token) == 200)
            let arrivals = servers.faults.arrivals
            #expect(arrivals.count == 3, "two failures, then the success")
            #expect(arrivals[1].at - arrivals[0].at >= .milliseconds(950), "Retry-After: 1 was waited for")
            #expect(arrivals[2].at - arrivals[1].at >= .milliseconds(190), "the second wait is at least half of 2 × 200 ms")
        }
    }

    @Test("5xx through every attempt → AgentAuthClientError.unavailable after maxAttempts requests")
    func retriesEndAtTheLimit() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient()
            servers.faults.failNext(.answer(.badGateway), .unavailable(), .answer(.internalServerError))
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
            tokenURL: "http://127.0.0.1:\(port)/oauth/token?tenant=t-secret",
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
        #expect(reason.contains("127.0.0.1:\(port)/oauth/token"), "the reason names the endpoint")
        #expect(!reason.contains("t-secret"), "but not its query, which may hold secrets")
    }

    @Test("a Retry-After longer than the policy allows ends the retries at once")
    func retryAfterBeyondPolicy() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient()
            servers.faults.failNext(.unavailable(retryAfter: 3600))
            let tokens = servers.manager(credentials)
            await #expect(throws: AgentAuthClientError.self) { try await tokens.token() }
            #expect(servers.faults.count == 1)
        }
    }

    @Test("a wrong secret → TokenRequestError invalid_client after exactly one request")
    func invalidClientIsTypedAndFinal() async throws {
        try await TestServers.with { servers in
            let registered = try await servers.client()
            let secret = SecretFormat.clientSecret.generate()
            let wrong = ClientAuthentication.clientSecretBasic(clientID: registered.clientID, clientSecret: secret)
            let tokens = servers.manager(wrong)
            let error = await #expect(throws: TokenRequestError.self) { try await tokens.token() }
            #expect(error?.code == .invalidClient)
            #expect(error?.status == 401)
            #expect(servers.faults.count == 1, "a 4xx is not retried")
            var dumped = ""
            dump(wrong, to: &dumped)
            dump(error, to: &dumped)
            #expect(!"\(wrong)".contains(secret) && !dumped.contains(secret), "the secret is in no description or dump")
            #expect(dumped.contains(registered.clientID))
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
            servers.faults.failNext(.unavailable(retryAfter: 1))
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

    @Test("a cancelled caller's refresh that then fails: the others get the error, the next call starts anew")
    func cancelledCallerThenFailure() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient()
            servers.faults.failNext(.unavailable(retryAfter: 1), .unavailable())
            let tokens = servers.manager(credentials, retry: RetryPolicy(maxAttempts: 2, initialBackoff: .milliseconds(10)))
            let cancelled = Task { try await tokens.token() }
            while servers.faults.count == 0 { try await Task.sleep(for: .milliseconds(5)) }
            let patient = Task { try await tokens.token() }
            cancelled.cancel()
            await #expect(throws: CancellationError.self) { try await cancelled.value }
            await #expect(throws: AgentAuthClientError.self) { try await patient.value }
            #expect(servers.faults.count == 2)
            #expect(try await servers.apiStatus(bearer: try await tokens.token()) == 200)
            #expect(servers.faults.count == 3)
        }
    }

    @Test("an outage inside the margin: callers get the valid token at once while the refresh retries behind them")
    func outageInsideTheMargin() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient(tokenTTL: 300)
            let tokens = servers.manager(credentials, retry: RetryPolicy(maxAttempts: 4, initialBackoff: .milliseconds(10)))
            let first = try await tokens.token()
            servers.clock.advance(.seconds(250))
            servers.faults.failNext(.unavailable(retryAfter: 1), .unavailable(retryAfter: 1))
            for _ in 0..<10 { #expect(try await tokens.token() == first) }
            #expect(servers.faults.count <= 3, "the calls did not wait out the refresh's Retry-After")
            _ = try await Self.waitForNewToken(tokens, replacing: first)
            #expect(servers.faults.count == 4, "the first token, then the refresh behind the callers: two failures and a success")
        }
    }

    @Test("waiting callers of a refresh that stays unavailable get the old token while it has over 5 s left, then the error")
    func fallbackForWaitingCallers() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient(tokenTTL: 300)
            let tokens = servers.manager(credentials, retry: RetryPolicy(maxAttempts: 2, initialBackoff: .milliseconds(10)))
            let first = try await tokens.token()
            servers.clock.advance(.seconds(292))
            servers.faults.failNext(.unavailable(), .unavailable())
            #expect(try await tokens.token() == first, "8 s left: still handed out")
            servers.clock.advance(.seconds(5))
            servers.faults.failNext(.unavailable(), .unavailable())
            await #expect(throws: AgentAuthClientError.self, "3 s left is too little to hand out") { try await tokens.token() }
            #expect(servers.faults.count == 5)
        }
    }

    @Test("429 with Retry-After: too_many_requests is thrown, and no new request is made until the time is up")
    func throttled() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient()
            servers.faults.failNext(.answer(.tooManyRequests, retryAfter: "30", body: #"{"error":"too_many_requests"}"#))
            let tokens = servers.manager(credentials)
            let error = await #expect(throws: TokenRequestError.self) { try await tokens.token() }
            #expect(error?.code == .tooManyRequests)
            #expect(error?.retryAfter == .seconds(30))
            await #expect(throws: TokenRequestError.self) { try await tokens.token() }
            #expect(servers.faults.count == 1, "the second call was answered from the throttle")
            servers.clock.advance(.seconds(31))
            #expect(try await servers.apiStatus(bearer: try await tokens.token()) == 200)
            #expect(servers.faults.count == 2)
        }
    }

    @Test("Retry-After as an HTTP-date is waited for too")
    func retryAfterDate() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient()
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
            // Whole seconds: the date is 3–4 s ahead, so a slow set-up on a loaded machine still
            // leaves more than a second to wait.
            let date = formatter.string(from: Date().addingTimeInterval(4))
            servers.faults.failNext(.answer(.serviceUnavailable, retryAfter: date))
            _ = try await servers.manager(credentials).token()
            let arrivals = servers.faults.arrivals
            #expect(arrivals.count == 2)
            #expect(arrivals[1].at - arrivals[0].at >= .seconds(1), "waited until the date, not the quick backoff")
        }
    }

    @Test("a body that stalls after the head is cut off by requestTimeout and retried")
    func stalledBody() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient()
            servers.faults.failNext(.stall)
            let tokens = AgentTokenManager(
                endpoint: .tokenURL(servers.tokenURL),
                client: credentials,
                grant: .clientCredentials,
                scope: nil,
                audience: [],
                configuration: .init(retry: TestServers.quickRetries, requestTimeout: .seconds(2)),
                now: servers.clock.instant
            )
            #expect(try await servers.apiStatus(bearer: try await tokens.token()) == 200)
            #expect(servers.faults.count == 2)
        }
    }

    @Test("a redirect from the token endpoint is not followed: the form would go wherever it points")
    func redirectNotFollowed() async throws {
        try await TestServers.with { servers in
            let registered = try await servers.client(authMethod: .clientSecretPost)
            servers.faults.failNext(.redirect(to: servers.tokenURL))
            let post = ClientAuthentication.clientSecretPost(clientID: registered.clientID, clientSecret: registered.secret!)
            let error = await #expect(throws: TokenRequestError.self) { try await servers.manager(post).token() }
            #expect(error?.status == 307)
            #expect(servers.faults.count == 1, "following it would have sent the secret a second time")
        }
    }

    @Test("answers that are not usable token responses → invalidResponse, not retried")
    func unusableAnswers() async throws {
        try await TestServers.with { servers in
            let (_, credentials) = try await servers.basicClient()
            let bodies = [
                #"{"access_token":"abc","token_type":"N_A","expires_in":60}"#,
                #"{"access_token":"abc","token_type":"Bearer","expires_in":"inf"}"#,
                #"{"token_type":"Bearer","expires_in":60}"#,
                String(repeating: " ", count: 70 * 1024) + "{}",
            ]
            for (index, body) in bodies.enumerated() {
                servers.faults.failNext(.answer(.ok, body: body))
                await #expect(throws: AgentAuthClientError.self) { try await servers.manager(credentials).token() }
                #expect(servers.faults.count == index + 1)
            }
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
            // (The metadata itself is checked in TokenEndpointClientTests.)
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

    @Test("client_secret_basic form-urlencodes the id and secret first (RFC 6749 §2.3.1): an id like billing+<&>*:1 works")
    func basicEncodesTheClientID() async throws {
        try await TestServers.with { servers in
            let agent = try await AgentAdministration(store: servers.store).createAgent(name: "billing", by: .test)
            let issued = try await ClientAdministration(store: servers.store).createClient(
                agentID: agent.id,
                ClientRequest(clientID: "billing+<&>*:1", scope: "conversations:read"),
                by: .test
            )
            let tokens = servers.manager(.clientSecretBasic(clientID: "billing+<&>*:1", clientSecret: issued.secret!))
            #expect(try await servers.apiStatus(bearer: try await tokens.token()) == 200)
        }
    }

    @Test("the audience asked for is sent and granted")
    func audience() async throws {
        try await TestServers.with { servers in
            let agent = try await AgentAdministration(store: servers.store).createAgent(name: "billing", by: .test)
            let issued = try await ClientAdministration(store: servers.store).createClient(
                agentID: agent.id,
                ClientRequest(scope: "conversations:read", audiences: ["agentauth", "https://billing.example"]),
                by: .test
            )
            let tokens = servers.manager(
                .clientSecretBasic(clientID: issued.client.clientID, clientSecret: issued.secret!),
                audience: ["https://billing.example"]
            )
            let introspection = try await servers.introspect(try await tokens.token())
            #expect(introspection["aud"] as? String == "https://billing.example" || introspection["aud"] as? [String] == ["https://billing.example"])
            #expect(servers.faults.arrivals.first?.form.contains("audience=https%3A%2F%2Fbilling.example") == true)
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
                // The server takes the first assertion (and records its jti), then its answer is
                // lost: the retry must carry a new assertion, or it would be refused as a replay.
                servers.faults.failNext(.afterServer(.badGateway))
                let first = try await tokens.token()
                await tokens.invalidate()
                let second = try await tokens.token()
                #expect(first != second, "the second request's assertion was not taken for a replay")
                #expect(try await servers.apiStatus(bearer: second) == 200)
            }
        }
    }
}
