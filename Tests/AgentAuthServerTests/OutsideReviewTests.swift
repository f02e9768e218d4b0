import AgentAuthCore
import AgentAuthHTTP
import AgentAuthSQLite
import AgentAuthServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The findings of the outside review (SECURITY-CASES 49–57), each sent as it was sent.
@Suite("Outside review")
struct OutsideReviewTests {
    static func basic(_ id: String, _ secret: String) -> HTTPFields {
        [.authorization: "Basic " + Data("\(formEncoded(id)):\(formEncoded(secret))".utf8).base64EncodedString()]
    }

    static func randomID(bytes: Int) -> String {
        String((0..<bytes).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
    }

    // MARK: 49: memory and audit rows under a flood of distinct client ids

    @Test("49: failed authentications with distinct ~60 KB client_ids keep no per-id state and one aggregated audit event")
    func distinctClientIDs() async throws {
        try await TestEnvironment.with { env in
            try await env.test(clock: TestClock()) { api, components in
                let requests = 300
                for _ in 0..<requests {
                    let response = try await api.token(
                        form: "grant_type=client_credentials&client_id=\(Self.randomID(bytes: 60_000))&client_secret=wrong"
                    )
                    #expect(response.status == .unauthorized || response.status == .tooManyRequests)
                }
                #expect(components.clientFailures.trackedKeyCount == 1, "one bucket for unknown clients at this address, not one per id")
                #expect(components.addressFailures.trackedKeyCount == 1)
                try await components.audit.flush(final: true)
                let failures = try await env.store.auditEvents(AuditFilter(type: .clientAuthenticationFailure, limit: 1000))
                #expect(failures.count == 1, "aggregated, not one event per request")
                #expect(failures.first?.credentialID == nil, "an unknown id is never recorded")
                #expect(failures.first?.details["reason"] == "unknown_client")
                #expect(failures.first?.details["count"] == String(requests))
            }
        }
    }

    // MARK: 50: secrets sent in the wrong field

    @Test("50: swapped Basic credentials and an admin key sent as client_id never reach the audit log or the logs")
    func secretsInWrongFields() async throws {
        try await TestEnvironment.with { env in
            try await env.test(clock: TestClock()) { api, components in
                let agent = try await api.createAgent()
                let (id, secret) = try await api.createClient(agent: agent, json: #"{"scope":"a"}"#)
                let clientSecret = try #require(secret)
                let (_, postSecret) = try await api.createClient(
                    agent: agent,
                    json: #"{"scope":"a","token_endpoint_auth_method":"client_secret_post"}"#
                )
                let attempts = [
                    try await api.token(form: "grant_type=client_credentials", basic: (clientSecret, id)),
                    try await api.token(form: "grant_type=client_credentials&client_id=\(env.adminKey)&client_secret=\(clientSecret)"),
                    try await api.token(form: "grant_type=client_credentials", basic: (env.adminKey, "x")),
                    try await api.token(form: "grant_type=client_credentials&client_id=\(postSecret!)&client_secret=\(postSecret!)"),
                ]
                for attempt in attempts { #expect(attempt.status == .unauthorized && attempt.errorCode == "invalid_client") }
                try await components.audit.flush(final: true)
                let chain = try await env.store.auditChain()
                let stored = chain.map { event in
                    [event.type.rawValue, event.agentID ?? "", event.credentialID ?? "", event.clientAddress ?? "", event.requestID ?? ""]
                        + event.details.flatMap { [$0.key, $0.value] }
                }.joined().joined(separator: " ")
                #expect(chain.contains { $0.type == .clientAuthenticationFailure })
                for secret in [clientSecret, env.adminKey, postSecret!] {
                    #expect(!stored.contains(secret), "a secret reached the audit log")
                    #expect(!env.logs.all.joined().contains(secret), "a secret reached the logs")
                    #expect(!(try await api.admin(.get, "/admin/audit?limit=1000").text.contains(secret)))
                }
            }
        }
    }

    @Test("50: the redaction rule holds for every field of every event on its way into the chain")
    func redactionInTheChain() async throws {
        try await TestEnvironment.with { env in
            let key = SecretFormat.apiKey.generate()
            let token = try JWTForge.signed(
                header: JWTForge.header(try await env.activeSigningKey()),
                payload: JWTForge.payload(agent: "agt_x"),
                key: try await env.activeSigningKey()
            )
            let event = AuditEvent(
                time: Date(),
                type: AuditEventType(rawValue: "test.event"),
                agentID: key,
                credentialID: "prefix " + token,
                clientAddress: String(repeating: "a", count: 10_000),
                details: ["name": "a " + key + " b", key: "value"]
            )
            try await env.store.appendAudit([event], key: AuditChainKey(masterKey: env.masterKey))
            let stored = try #require(try await env.store.auditChain().last)
            #expect(stored.agentID == SecretFormat.apiKey.display(key))
            #expect(stored.credentialID == "[redacted JWT]")
            #expect(stored.clientAddress!.utf8.count <= AuditRedaction.maxValueBytes)
            #expect(stored.details["name"] == "sk-agent-[redacted]")
            #expect(!stored.details.keys.contains(key))
            #expect(AuditChain.verify(try await env.store.auditChain(), key: AuditChainKey(masterKey: env.masterKey)) == nil)
        }
    }

    @Test("33/2: an unknown and a known client id fail in the same time: no failure is answered before the floor")
    func failureTimingFloor() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let (id, _) = try await api.createClient(agent: try await api.createAgent(), json: #"{"scope":"a"}"#)
                for clientID in [id, "cli_doesnotexist0000000", id, "unknown"] {
                    let started = ContinuousClock.now
                    let response = try await api.token(form: "grant_type=client_credentials", basic: (clientID, "wrong"))
                    let elapsed = ContinuousClock.now - started
                    #expect(response.status == .unauthorized)
                    #expect(elapsed >= .milliseconds(5), "\(clientID): answered after \(elapsed)")
                }
            }
        }
    }

    // MARK: 53: the admin API has an audience of its own

    @Test("53: a token with scope admin for the resource servers' audience is refused by the admin API")
    func adminAudience() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let (id, secret) = try await api.createClient(agent: env.adminAgentID, json: #"{"scope":"admin"}"#)
                let token = try #require(
                    try await api.token(form: "grant_type=client_credentials", basic: (id, secret!)).object["access_token"] as? String
                )
                let bearer: HTTPFields = [.authorization: "Bearer \(token)"]
                BearerTokenTests.expectRefused(try await api.request(.get, "/admin/agents", headers: bearer))
                BearerTokenTests.expectRefused(try await api.request(.post, "/admin/agents", headers: bearer, json: #"{"name":"replayed"}"#))
                let issuerAudience = try await api.token(
                    form: "grant_type=client_credentials&audience=\(TestEnvironment.issuer)",
                    basic: (id, secret!)
                )
                #expect(issuerAudience.status == .badRequest && issuerAudience.errorCode == "invalid_target", "not allowed for this client")
            }
        }
    }

    @Test("53: a client allowed the admin audience gets it only when it asks for it")
    func adminAudienceOnRequest() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let (id, secret) = try await api.createClient(
                    agent: env.adminAgentID,
                    json: #"{"scope":"admin","audience":["agentauth","\#(TestEnvironment.issuer)"]}"#
                )
                let plain = try await api.token(form: "grant_type=client_credentials", basic: (id, secret!))
                let plainToken = try #require(plain.object["access_token"] as? String)
                #expect(try await api.introspect(plainToken, as: env.adminKey).object["aud"] as? String == "agentauth")
                BearerTokenTests.expectRefused(try await api.request(.get, "/admin/agents", headers: [.authorization: "Bearer \(plainToken)"]))

                let asked = try await api.token(
                    form: "grant_type=client_credentials&audience=\(formEncoded(TestEnvironment.issuer))",
                    basic: (id, secret!)
                )
                let adminToken = try #require(asked.object["access_token"] as? String)
                #expect(try await api.request(.get, "/admin/agents", headers: [.authorization: "Bearer \(adminToken)"]).status == .ok)

                let (onlyID, onlySecret) = try await api.createClient(
                    agent: env.adminAgentID,
                    json: #"{"scope":"admin","audience":["\#(TestEnvironment.issuer)"]}"#
                )
                let unasked = try await api.token(form: "grant_type=client_credentials", basic: (onlyID, onlySecret!))
                #expect(unasked.status == .badRequest && unasked.errorCode == "invalid_target", "the admin audience is never a default")
            }
        }
    }

    // MARK: 54: introspection and the feed need introspect; revoke tells nothing

    @Test("54: a client without introspect can't introspect or follow the feed; one with it can")
    func introspectionNeedsScope() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (id, secret) = try await api.createClient(agent: agent, json: #"{"scope":"nothing:useful"}"#)
                let refused = try await api.request(.post, "/oauth/introspect", headers: Self.basic(id, secret!), form: "token=\(env.adminKey)")
                #expect(refused.status == .forbidden && refused.errorCode == "insufficient_scope")
                #expect(!refused.text.contains("active"))
                let feed = try await api.request(.get, "/oauth/revocations?after=0&wait=0", headers: Self.basic(id, secret!))
                #expect(feed.status == .forbidden)

                let (verifierID, verifierSecret) = try await api.createClient(agent: agent, json: #"{"scope":"introspect"}"#)
                let allowed = try await api.request(
                    .post,
                    "/oauth/introspect",
                    headers: Self.basic(verifierID, verifierSecret!),
                    form: "token=\(env.adminKey)"
                )
                #expect(allowed.status == .ok && allowed.object["active"] as? Bool == true)
                #expect(
                    try await api.request(.get, "/oauth/revocations?after=0&wait=0", headers: Self.basic(verifierID, verifierSecret!)).status == .ok
                )
            }
        }
    }

    @Test("54: revoking another agent's existing key answers exactly as for a key never issued, and the key stays active")
    func revokeIsNoOracle() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let victim = try await api.createAgent("victim")
                let (_, key) = try await api.createKey(agent: victim, scopes: ["introspect"])
                let (id, secret) = try await api.createClient(agent: try await api.createAgent("stranger"), json: #"{"scope":"a"}"#)
                let existing = try await api.request(.post, "/oauth/revoke", headers: Self.basic(id, secret!), form: "token=\(key)")
                let unknown = try await api.request(
                    .post,
                    "/oauth/revoke",
                    headers: Self.basic(id, secret!),
                    form: "token=\(SecretFormat.apiKey.generate())"
                )
                #expect(existing.status == .ok && unknown.status == .ok)
                #expect(existing.text == unknown.text)
                #expect(existing.headers[.cacheControl] == unknown.headers[.cacheControl])
                #expect(existing.headers[.contentLength] == unknown.headers[.contentLength])
                #expect(try await api.introspect(key, as: env.adminKey).object["active"] as? Bool == true, "the key stays active")
            }
        }
    }

    // MARK: 55: client assertions and client keys

    @Test("55: an assertion aud array with a foreign value → invalid_client; the issuer alone or the token endpoint as a string → token")
    func assertionAudienceRule() async throws {
        try await TestEnvironment.with { env in
            try await env.test(clientFailureLimit: 100) { api in
                let key = PrivateKeyJWTTests.ClientKey()
                let id = try await PrivateKeyJWTTests.register(api, key)
                let endpoint = TestEnvironment.issuer + "/oauth/token"
                let cases: [(aud: String, accepted: Bool)] = [
                    (#"["\#(TestEnvironment.issuer)","https://evil.example"]"#, false),
                    (#"["\#(endpoint)","https://evil.example"]"#, false),
                    (#"["https://evil.example"]"#, false),
                    (#"[]"#, false),
                    (#"["\#(TestEnvironment.issuer)"]"#, true),
                    (#""\#(TestEnvironment.issuer)""#, true),
                    (#""\#(endpoint)""#, true),
                ]
                for (aud, accepted) in cases {
                    let response = try await api.token(form: PrivateKeyJWTTests.form(try key.assertion(clientID: id, audJSON: aud)))
                    if accepted {
                        #expect(response.status == .ok, "aud \(aud): \(response.text)")
                    } else {
                        #expect(response.status == .unauthorized && response.errorCode == "invalid_client", "aud \(aud)")
                    }
                }
            }
        }
    }

    @Test("55: RSA keys under 2048 bits can't be registered")
    func weakRSAKeys() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                func jwks(modulusBytes: Int) -> String {
                    let modulus = Base64URL.encode(Data([0x80] + [UInt8](repeating: 0xAB, count: modulusBytes - 1)))
                    return #"{"keys":[{"kty":"RSA","kid":"r","e":"AQAB","n":"\#(modulus)"}]}"#
                }
                for bytes in [64, 128, 255] {
                    let response = try await api.admin(
                        .post,
                        "/admin/agents/\(agent)/clients",
                        json: #"{"scope":"a","token_endpoint_auth_method":"private_key_jwt","jwks":\#(jwks(modulusBytes: bytes))}"#
                    )
                    #expect(response.status == .badRequest && response.text.contains("2048"), "\(bytes * 8)-bit RSA key")
                }
                let strong = try await api.admin(
                    .post,
                    "/admin/agents/\(agent)/clients",
                    json: #"{"scope":"a","token_endpoint_auth_method":"private_key_jwt","jwks":\#(jwks(modulusBytes: 256))}"#
                )
                #expect(strong.status == .created, "\(strong.text)")
            }
        }
    }

    // MARK: 57: introspection needs no leeway against itself

    @Test("57: introspection says active: false once exp has passed")
    func introspectionAfterExpiry() async throws {
        try await TestEnvironment.with { env in
            let clock = TestClock()
            try await env.test(clock: clock) { api, _ in
                let (id, secret) = try await api.createClient(agent: try await api.createAgent(), json: #"{"scope":"a","token_ttl":60}"#)
                let token = try #require(
                    try await api.token(form: "grant_type=client_credentials", basic: (id, secret!)).object["access_token"] as? String
                )
                clock.advance(59)
                #expect(try await api.introspect(token, as: env.adminKey).object["active"] as? Bool == true)
                clock.advance(1)
                #expect(try await api.introspect(token, as: env.adminKey).text == #"{"active":false}"#)
            }
        }
    }

    @Test("an expired actor token is reported as the actor token, not the subject token")
    func expiredActorToken() async throws {
        try await TestEnvironment.with { env in
            let clock = TestClock()
            try await env.test(clock: clock) { api, _ in
                let subjectAgent = try await api.createAgent("orchestrator")
                let (subjectID, subjectSecret) = try await api.createClient(agent: subjectAgent, json: #"{"scope":"a","token_ttl":600}"#)
                let subject = try #require(
                    try await api.token(form: "grant_type=client_credentials", basic: (subjectID, subjectSecret!)).object["access_token"] as? String
                )
                let actorAgent = try await api.createAgent("worker")
                let (actorID, actorSecret) = try await api.createClient(agent: actorAgent, json: #"{"scope":"a","token_ttl":60}"#)
                let actor = try #require(
                    try await api.token(form: "grant_type=client_credentials", basic: (actorID, actorSecret!)).object["access_token"] as? String
                )
                clock.advance(61)
                let exchange = try await api.token(
                    form: "grant_type=\(formEncoded(GrantType.tokenExchange.rawValue))&subject_token=\(subject)"
                        + "&subject_token_type=\(formEncoded(TokenExchangeGrant.accessTokenType))&actor_token=\(actor)"
                        + "&actor_token_type=\(formEncoded(TokenExchangeGrant.accessTokenType))",
                    basic: (actorID, actorSecret!)
                )
                #expect(exchange.status == .badRequest && exchange.errorCode == "invalid_request")
                let description = try #require(exchange.object["error_description"] as? String)
                #expect(description.contains("actor_token") && !description.contains("subject_token"), "\(description)")
            }
        }
    }
}
