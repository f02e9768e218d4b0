import AgentAuthCore
import AgentAuthHTTP
import AgentAuthServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Token exchange (RFC 8693) for sub-agents: SECURITY-CASES 41–45.
@Suite("Delegation (SECURITY-CASES 41–45)")
struct DelegationTests {
    static let exchangeGrant = "urn:ietf:params:oauth:grant-type:token-exchange"
    static let accessTokenType = "urn:ietf:params:oauth:token-type:access_token"

    struct Party {
        let agent: String
        let clientID: String
        let secret: String
    }

    static func party(_ api: TestAPI, name: String, scope: String, ttl: Int = 1800) async throws -> Party {
        let agent = try await api.createAgent(name)
        let (id, secret) = try await api.createClient(agent: agent, json: #"{"scope":"\#(scope)","token_ttl":\#(ttl)}"#)
        return Party(agent: agent, clientID: id, secret: secret!)
    }

    static func token(_ api: TestAPI, _ party: Party) async throws -> String {
        let response = try await api.token(form: "grant_type=client_credentials", basic: (party.clientID, party.secret))
        return try #require(response.object["access_token"] as? String)
    }

    static func exchange(_ api: TestAPI, _ party: Party, subject: String, extra: String = "") async throws -> TestResponse {
        try await api.token(
            form: "grant_type=\(formEncoded(exchangeGrant))&subject_token=\(subject)&subject_token_type=\(formEncoded(accessTokenType))\(extra)",
            basic: (party.clientID, party.secret)
        )
    }

    static func claims(_ token: String) throws -> [String: Any] {
        let payload = try #require(Base64URL.decode(token.split(separator: ".")[1].utf8))
        return try #require(JSONSerialization.jsonObject(with: payload) as? [String: Any])
    }

    static func active(_ api: TestAPI, _ env: TestEnvironment, _ token: String) async throws -> Bool {
        try await api.introspect(token, as: env.adminKey).object["active"] as? Bool == true
    }

    @Test("42, 44: a three-hop chain narrows at each hop, nests act, never outlives its parent; depth over the limit is refused")
    func threeHops() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let orchestrator = try await Self.party(api, name: "orchestrator", scope: "a b c")
                let research = try await Self.party(api, name: "research", scope: "a b", ttl: 600)
                let sub = try await Self.party(api, name: "sub", scope: "a b", ttl: 300)
                let deep = try await Self.party(api, name: "deep", scope: "a b")
                let root = try await Self.token(api, orchestrator)

                let first = try await Self.exchange(api, research, subject: root, extra: "&scope=a+b+c")
                #expect(first.status == .ok, "\(first.text)")
                #expect(first.object["issued_token_type"] as? String == Self.accessTokenType)
                #expect(first.object["scope"] as? String == "a b", "narrowed to the caller's scopes")
                #expect(first.object["refresh_token"] == nil)
                let hop1 = try #require(first.object["access_token"] as? String)
                let c1 = try Self.claims(hop1)
                #expect(c1["sub"] as? String == orchestrator.agent, "sub stays the original agent")
                #expect((c1["act"] as? [String: Any])?["sub"] as? String == research.agent)
                #expect(c1["client_id"] as? String == research.clientID)
                #expect((c1["exp"] as! Int) <= (try Self.claims(root)["exp"] as! Int))
                #expect((c1["exp"] as! Int) - (c1["iat"] as! Int) <= 600)
                #expect(c1["ancestors"] as? [String] == [try Self.claims(root)["jti"] as! String])

                let second = try await Self.exchange(api, sub, subject: hop1, extra: "&scope=a+c")
                #expect(second.object["scope"] as? String == "a", "c was never in the parent: not widened")
                let hop2 = try #require(second.object["access_token"] as? String)
                let c2 = try Self.claims(hop2)
                let act2 = try #require(c2["act"] as? [String: Any])
                #expect(act2["sub"] as? String == sub.agent)
                #expect((act2["act"] as? [String: Any])?["sub"] as? String == research.agent, "nested act (RFC 8693 §4.1)")
                #expect((c2["exp"] as! Int) <= (c1["exp"] as! Int))
                #expect((c2["ancestors"] as? [String])?.count == 2)

                let third = try await Self.exchange(api, deep, subject: hop2)
                #expect(third.status == .ok, "three hops are allowed")
                let hop3 = try #require(third.object["access_token"] as? String)
                let fourth = try await Self.exchange(api, research, subject: hop3)
                #expect(fourth.status == .badRequest)
                #expect(fourth.errorCode == "invalid_request")
                #expect(fourth.text.contains("depth"))

                let introspected = try await api.introspect(hop2, as: env.adminKey).object
                #expect(introspected["sub"] as? String == orchestrator.agent)
                #expect((introspected["act"] as? [String: Any])?["sub"] as? String == sub.agent, "introspection shows act")
                let widened = try await Self.exchange(api, sub, subject: hop2, extra: "&scope=b")
                #expect(widened.status == .badRequest && widened.errorCode == "invalid_scope", "42: nothing left → invalid_scope")
            }
        }
    }

    @Test("45: revoking the middle token kills the last one but not the first; disabling the sub-agent kills only its derived tokens")
    func cascade() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let orchestrator = try await Self.party(api, name: "orchestrator", scope: "a")
                let research = try await Self.party(api, name: "research", scope: "a")
                let sub = try await Self.party(api, name: "sub", scope: "a")
                let root = try await Self.token(api, orchestrator)
                let hop1 = try #require(try await Self.exchange(api, research, subject: root).object["access_token"] as? String)
                let hop2 = try #require(try await Self.exchange(api, sub, subject: hop1).object["access_token"] as? String)
                let otherHop1 = try #require(try await Self.exchange(api, research, subject: root).object["access_token"] as? String)
                #expect(try await Self.active(api, env, hop2))

                let revoked = try await api.request(
                    .post,
                    "/oauth/revoke",
                    headers: RevocationTests.basic(research.clientID, research.secret),
                    form: "token=\(hop1)"
                )
                #expect(revoked.status == .ok)
                #expect(try await !Self.active(api, env, hop1))
                #expect(try await !Self.active(api, env, hop2), "a descendant of the revoked token is dead")
                #expect(try await Self.active(api, env, root), "the parent lives")
                #expect(try await Self.active(api, env, otherHop1), "a sibling lives")
                let fromDead = try await Self.exchange(api, sub, subject: hop1)
                #expect(fromDead.status == .badRequest && fromDead.errorCode == "invalid_request", "43: a revoked subject token")

                let viaSibling = try #require(try await Self.exchange(api, sub, subject: otherHop1).object["access_token"] as? String)
                _ = try await api.admin(.post, "/admin/agents/\(sub.agent)/disable")
                #expect(try await !Self.active(api, env, viaSibling), "disabling the sub-agent kills its derived tokens")
                #expect(try await Self.active(api, env, otherHop1), "but not the tokens it has no part in")
                #expect(try await Self.active(api, env, root))
            }
        }
    }

    @Test("41, 43: missing or unknown token types, forged, expired or foreign subject tokens → invalid_request")
    func badRequests() async throws {
        try await TestEnvironment.with { env in
            try await env.test(clientFailureLimit: 100) { api in
                let orchestrator = try await Self.party(api, name: "orchestrator", scope: "a")
                let research = try await Self.party(api, name: "research", scope: "a")
                let root = try await Self.token(api, orchestrator)
                let grant = "grant_type=\(formEncoded(Self.exchangeGrant))"
                let basic = (research.clientID, research.secret)
                let forms = [
                    grant + "&subject_token_type=\(formEncoded(Self.accessTokenType))",
                    grant + "&subject_token=\(root)",
                    grant + "&subject_token=\(root)&subject_token_type=urn:ietf:params:oauth:token-type:saml2",
                    grant
                        + "&subject_token=\(root)&subject_token_type=\(formEncoded(Self.accessTokenType))&requested_token_type=urn:ietf:params:oauth:token-type:refresh_token",
                    grant + "&subject_token=\(root)&subject_token_type=\(formEncoded(Self.accessTokenType))&actor_token=\(root)",
                    grant
                        + "&subject_token=\(root)&subject_token_type=\(formEncoded(Self.accessTokenType))&actor_token=\(root)&actor_token_type=\(formEncoded(Self.accessTokenType))",
                    grant + "&subject_token=\(root.dropLast(4))&subject_token_type=\(formEncoded(Self.accessTokenType))",
                    grant + "&subject_token=\(SecretFormat.apiKey.generate())&subject_token_type=\(formEncoded(Self.accessTokenType))",
                ]
                for form in forms {
                    let response = try await api.token(form: form, basic: basic)
                    #expect(response.status == .badRequest, "\(form) → \(response.status)")
                    #expect(response.errorCode == "invalid_request", "\(form)")
                }
                // A token from another issuer, validly shaped and signed by a key we don't know.
                let foreignKey = try await SigningKeyMaterial.generate(.eddsa).material
                let foreign = try JWTForge.signed(
                    header: JWTForge.header(foreignKey),
                    payload: JWTForge.payload(agent: orchestrator.agent, scope: "a"),
                    key: foreignKey
                )
                let foreignResponse = try await Self.exchange(api, research, subject: foreign)
                #expect(foreignResponse.errorCode == "invalid_request")
                // An expired subject token, otherwise valid.
                let key = try await env.activeSigningKey()
                let now = Int(Date().timeIntervalSince1970)
                let expired = try JWTForge.signed(
                    header: JWTForge.header(key),
                    payload: JWTForge.payload(agent: orchestrator.agent, scope: "a", exp: String(now - 120), iat: String(now - 600)),
                    key: key
                )
                #expect(try await Self.exchange(api, research, subject: expired).errorCode == "invalid_request")
                // The actor token of the caller's own agent is accepted.
                let own = try await Self.token(api, research)
                let withActor = try await Self.exchange(
                    api,
                    research,
                    subject: root,
                    extra: "&actor_token=\(own)&actor_token_type=\(formEncoded(Self.accessTokenType))"
                )
                #expect(withActor.status == .ok, "\(withActor.text)")
            }
        }
    }

    @Test("44: a client-supplied act is ignored; a client without the grant → unauthorized_client; the delegation policy → access_denied")
    func actAndPolicy() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let orchestrator = try await Self.party(api, name: "orchestrator", scope: "a")
                let research = try await Self.party(api, name: "research", scope: "a")
                let root = try await Self.token(api, orchestrator)
                let forgedAct = formEncoded(#"{"sub":"agt_someone_else"}"#)
                let response = try await Self.exchange(api, research, subject: root, extra: "&act=\(forgedAct)")
                let token = try #require(response.object["access_token"] as? String)
                #expect((try Self.claims(token)["act"] as? [String: Any])?["sub"] as? String == research.agent)

                let agent = try await api.createAgent("no exchange")
                let (id, secret) = try await api.createClient(agent: agent, json: #"{"scope":"a","grant_types":["client_credentials"]}"#)
                let refused = try await api.token(
                    form:
                        "grant_type=\(formEncoded(Self.exchangeGrant))&subject_token=\(root)&subject_token_type=\(formEncoded(Self.accessTokenType))",
                    basic: (id, secret!)
                )
                #expect(refused.status == .badRequest && refused.errorCode == "unauthorized_client")

                let stranger = try await Self.party(api, name: "stranger", scope: "a")
                let policy = try await api.request(
                    .put,
                    "/admin/agents/\(orchestrator.agent)/delegation",
                    key: env.adminKey,
                    json: #"{"may_act":["\#(research.agent)"]}"#
                )
                #expect(policy.status == .ok)
                #expect(policy.object["may_act"] as? [String] == [research.agent])
                #expect(try await Self.exchange(api, research, subject: root).status == .ok)
                let denied = try await Self.exchange(api, stranger, subject: root)
                #expect(denied.status == .badRequest && denied.errorCode == "access_denied")
                let shown = try await api.admin(.get, "/admin/agents/\(orchestrator.agent)/delegation")
                #expect(shown.object["may_act"] as? [String] == [research.agent])
                let unknown = try await api.request(
                    .put,
                    "/admin/agents/\(orchestrator.agent)/delegation",
                    key: env.adminKey,
                    json: #"{"may_act":["agt_00000000000000000000"]}"#
                )
                #expect(unknown.status == .badRequest)
                _ = try await api.request(.put, "/admin/agents/\(orchestrator.agent)/delegation", key: env.adminKey, json: #"{"may_act":null}"#)
                #expect(try await Self.exchange(api, stranger, subject: root).status == .ok, "null allows any agent again")
            }
        }
    }

    @Test("an actor token bounds the delegated token's life and revoking it kills the delegated token")
    func actorToken() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let orchestrator = try await Self.party(api, name: "orchestrator", scope: "a")
                let research = try await Self.party(api, name: "research", scope: "a", ttl: 1800)
                let shortLived = try await api.createClient(agent: research.agent, json: #"{"scope":"a","token_ttl":60}"#)
                let actorToken = try #require(
                    try await api.token(form: "grant_type=client_credentials", basic: (shortLived.id, shortLived.secret!)).object["access_token"]
                        as? String
                )
                let root = try await Self.token(api, orchestrator)
                let response = try await Self.exchange(
                    api,
                    research,
                    subject: root,
                    extra: "&actor_token=\(actorToken)&actor_token_type=\(formEncoded(Self.accessTokenType))"
                )
                let delegated = try #require(response.object["access_token"] as? String)
                #expect((try Self.claims(delegated)["exp"] as! Int) <= (try Self.claims(actorToken)["exp"] as! Int), "never outlives the actor token")
                _ = try await api.request(
                    .post,
                    "/oauth/revoke",
                    headers: RevocationTests.basic(shortLived.id, shortLived.secret!),
                    form: "token=\(actorToken)"
                )
                #expect(try await !Self.active(api, env, delegated), "dies with the actor token")
                #expect(try await Self.active(api, env, root))
            }
        }
    }

    @Test("the audience narrows too: only audiences the subject token had and the caller may use")
    func audienceNarrows() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let payer = try await api.createAgent("payer")
                let payments = try await api.createClient(agent: payer, json: #"{"scope":"a","audience":["payments-api"]}"#)
                let root = try #require(
                    try await api.token(form: "grant_type=client_credentials", basic: (payments.id, payments.secret!)).object["access_token"]
                        as? String
                )
                let elsewhere = try await Self.party(api, name: "elsewhere", scope: "a")
                let moved = try await Self.exchange(api, elsewhere, subject: root)
                #expect(moved.status == .badRequest && moved.errorCode == "invalid_target", "agentauth was never the subject's audience")
                let helper = try await api.createAgent("helper")
                let both = try await api.createClient(agent: helper, json: #"{"scope":"a","audience":["admin-api","payments-api"]}"#)
                let exchanged = try await api.token(
                    form:
                        "grant_type=\(formEncoded(Self.exchangeGrant))&subject_token=\(root)&subject_token_type=\(formEncoded(Self.accessTokenType))",
                    basic: (both.id, both.secret!)
                )
                #expect(try Self.claims(try #require(exchanged.object["access_token"] as? String))["aud"] as? String == "payments-api")
                let widened = try await api.token(
                    form:
                        "grant_type=\(formEncoded(Self.exchangeGrant))&subject_token=\(root)&subject_token_type=\(formEncoded(Self.accessTokenType))&audience=admin-api",
                    basic: (both.id, both.secret!)
                )
                #expect(widened.status == .badRequest && widened.errorCode == "invalid_target")
            }
        }
    }

    @Test("the depth limit is configurable; a policy update must name may_act")
    func depthAndPolicyBody() async throws {
        try await TestEnvironment.with { env in
            try await env.test(clock: TestClock(), maxDelegationDepth: 1) { api, _ in
                let orchestrator = try await Self.party(api, name: "orchestrator", scope: "a")
                let research = try await Self.party(api, name: "research", scope: "a")
                let sub = try await Self.party(api, name: "sub", scope: "a")
                let hop1 = try #require(
                    try await Self.exchange(api, research, subject: try await Self.token(api, orchestrator)).object["access_token"] as? String
                )
                let hop2 = try await Self.exchange(api, sub, subject: hop1)
                #expect(hop2.status == .badRequest && hop2.text.contains("1 hops"))
                for body in ["{}", #"{"mayAct":["agt_x"]}"#] {
                    let response = try await api.request(.put, "/admin/agents/\(orchestrator.agent)/delegation", key: env.adminKey, json: body)
                    #expect(response.status == .badRequest, "\(body)")
                }
                #expect(try await api.admin(.get, "/admin/agents/\(orchestrator.agent)/delegation").object["may_act"] is NSNull)
            }
        }
    }
}
