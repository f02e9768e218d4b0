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
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A resource server protected by `ResourceAuthenticator`, against a real auth server on a real socket.
@Suite("Resource-server middleware")
struct ResourceAuthenticatorTests {
    struct Fixture: Sendable {
        let adminKey: String
        let authPort: Int
        let introspectionKey: String
        let store: SQLiteStore
    }

    /// The example API's routes, built from the library pieces a resource server uses.
    static func resourceRouter(authServer: String, introspectionKey: String) -> Router<AgentAuthRequestContext> {
        let router = Router(context: AgentAuthRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())
        let protected = router.group("v1").add(
            middleware: ResourceAuthenticator(introspection: IntrospectionClient(authServer: authServer, introspectionKey: introspectionKey))
        )
        protected.group("conversations").add(middleware: RequireScope(Scope("conversations:read")!)).get { _, context in
            ["conversations": [String](), "agent": [context.identity?.agentID ?? ""]]
        }
        protected.group("billing/balance").add(middleware: RequireScope(Scope("billing:read")!)).get { _, _ in ["currency": "USD"] }
        return router
    }

    static func withAuthServer(_ body: @Sendable (Fixture) async throws -> Void) async throws {
        try await TestAuthServer.with { server in
            let introspectionKey = try await server.introspectionKey(agentName: "example api")
            try await server.serve { auth in
                try await body(Fixture(adminKey: server.adminKey, authPort: auth.port, introspectionKey: introspectionKey, store: server.store))
            }
        }
    }

    static func get(_ client: any TestClientProtocol, _ path: String, headers: HTTPFields) async throws -> TestResponse {
        try await client.executeRequest(uri: path, method: .get, headers: headers, body: nil)
    }

    static func object(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:]
    }

    @Test("a key with the route's scope passes; without it → 403 insufficient_scope naming the scope")
    func scopePolicy() async throws {
        try await Self.withAuthServer { fixture in
            let administration = AgentAdministration(store: fixture.store)
            let agent = try await administration.createAgent(name: "reader", by: .test)
            let key = try await APIKeyAdministration(store: administration.store).createAPIKey(
                agentID: agent.id,
                APIKeyRequest(scopes: ["conversations:read"]),
                by: .test
            )
            let router = Self.resourceRouter(authServer: "http://127.0.0.1:\(fixture.authPort)", introspectionKey: fixture.introspectionKey)
            try await Application(router: router).test(.router) { client in
                let ok = try await Self.get(client, "/v1/conversations", headers: [.apiKey: key.plaintext])
                #expect(ok.status == .ok)
                #expect(Self.object(ok)["agent"] as? [String] == [agent.id], "the identity reaches the handler")
                let forbidden = try await Self.get(client, "/v1/billing/balance", headers: [.apiKey: key.plaintext])
                #expect(forbidden.status == .forbidden)
                #expect(forbidden.headers[.wwwAuthenticate] == #"Bearer error="insufficient_scope", scope="billing:read""#)
                #expect(Self.object(forbidden)["error"] as? String == "insufficient_scope")
            }
        }
    }

    @Test("no credentials → 401 bare challenge; unknown key or a Bearer token → 401 invalid_token")
    func unauthenticated() async throws {
        try await Self.withAuthServer { fixture in
            let router = Self.resourceRouter(authServer: "http://127.0.0.1:\(fixture.authPort)", introspectionKey: fixture.introspectionKey)
            try await Application(router: router).test(.router) { client in
                let none = try await Self.get(client, "/v1/conversations", headers: [:])
                #expect(none.status == .unauthorized)
                #expect(none.headers[.wwwAuthenticate] == "Bearer")
                for headers: HTTPFields in [
                    [.apiKey: SecretFormat.apiKey.generate()], [.apiKey: "nonsense"], [.authorization: "Bearer \(fixture.adminKey)"],
                ] {
                    let refused = try await Self.get(client, "/v1/conversations", headers: headers)
                    #expect(refused.status == .unauthorized)
                    #expect(refused.headers[.wwwAuthenticate]?.hasPrefix(#"Bearer error="invalid_token""#) == true)
                }
            }
        }
    }

    @Test("revoking a key or disabling its agent fails the very next request (no caching)")
    func revocationIsImmediate() async throws {
        try await Self.withAuthServer { fixture in
            let administration = AgentAdministration(store: fixture.store)
            let agent = try await administration.createAgent(name: "reader", by: .test)
            let first = try await APIKeyAdministration(store: administration.store).createAPIKey(
                agentID: agent.id,
                APIKeyRequest(scopes: ["conversations:read"]),
                by: .test
            )
            let second = try await APIKeyAdministration(store: administration.store).createAPIKey(
                agentID: agent.id,
                APIKeyRequest(scopes: ["conversations:read"]),
                by: .test
            )
            let router = Self.resourceRouter(authServer: "http://127.0.0.1:\(fixture.authPort)", introspectionKey: fixture.introspectionKey)
            try await Application(router: router).test(.router) { client in
                #expect(try await Self.get(client, "/v1/conversations", headers: [.apiKey: first.plaintext]).status == .ok)
                _ = try await APIKeyAdministration(store: administration.store).revokeAPIKey(id: first.record.id, by: .test)
                #expect(try await Self.get(client, "/v1/conversations", headers: [.apiKey: first.plaintext]).status == .unauthorized)
                #expect(try await Self.get(client, "/v1/conversations", headers: [.apiKey: second.plaintext]).status == .ok)
                _ = try await administration.setStatus(agentID: agent.id, .disabled, by: .test)
                #expect(try await Self.get(client, "/v1/conversations", headers: [.apiKey: second.plaintext]).status == .unauthorized)
            }
        }
    }

    @Test("auth server unreachable → 503 with Retry-After for well-formed keys; malformed keys are refused locally")
    func authServerDown() async throws {
        // A port nothing listens on: bind, note, close.
        let router = Self.resourceRouter(authServer: "http://127.0.0.1:1", introspectionKey: SecretFormat.apiKey.generate())
        try await Application(router: router).test(.router) { client in
            let wellFormed = try await Self.get(client, "/v1/conversations", headers: [.apiKey: SecretFormat.apiKey.generate()])
            #expect(wellFormed.status == .serviceUnavailable)
            #expect(wellFormed.headers[.retryAfter] != nil)
            #expect(Self.object(wellFormed)["error"] as? String == "temporarily_unavailable")
            let malformed = try await Self.get(client, "/v1/conversations", headers: [.apiKey: "sk-agent-short"])
            #expect(malformed.status == .unauthorized, "a malformed key never needs the auth server")
        }
    }

    @Test("a wrong introspection key fails closed with 503, never open")
    func wrongIntrospectionKey() async throws {
        try await Self.withAuthServer { fixture in
            let administration = AgentAdministration(store: fixture.store)
            let agent = try await administration.createAgent(name: "reader", by: .test)
            let key = try await APIKeyAdministration(store: administration.store).createAPIKey(
                agentID: agent.id,
                APIKeyRequest(scopes: ["conversations:read"]),
                by: .test
            )
            let router = Self.resourceRouter(authServer: "http://127.0.0.1:\(fixture.authPort)", introspectionKey: SecretFormat.apiKey.generate())
            try await Application(router: router).test(.router) { client in
                let response = try await Self.get(client, "/v1/conversations", headers: [.apiKey: key.plaintext])
                #expect(response.status == .serviceUnavailable)
            }
        }
    }
}
