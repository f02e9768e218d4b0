import AgentAuthCore
import AgentAuthSQLite
import Foundation
import JWTKit
import NIOHTTP1
import Testing

extension TimedProcessTests {
    /// Signing-key rotation seen by a separate resource server (`example-agent-api`, following the
    /// revocation feed), as the outside review reproduced it against the release binaries.
    @Suite("Signing-key rotation at a resource-server process")
    struct KeyRotationTests {
        struct Stack {
            let directory: URL
            let auth: String
            let api: String
            let admin: [(String, String)]
        }

        static func withStack(_ body: (Stack) async throws -> Void) async throws {
            try await withTemporaryDirectory { directory in
                let started = try await AuthServerProcess.start(in: directory)
                defer { started.process.stop() }
                let example = try await ExampleAPIProcess.start(authServer: started.base, admin: started.admin, in: directory)
                defer { example.process.stop() }
                let deadline = ContinuousClock.now + .seconds(20)
                while ContinuousClock.now < deadline, (try? await HTTP.send(.GET, "\(example.base)/readyz"))?.status != 200 {
                    try await Task.sleep(for: .milliseconds(100))
                }
                try await body(Stack(directory: directory, auth: started.base, api: example.base, admin: started.admin))
            }
        }

        /// The server's signing key as someone who stole it holds it: opened from the database with the master key file.
        static func leakedKey(_ stack: Stack) async throws -> SigningKeyMaterial {
            let store = try SQLiteStore(path: stack.directory.appendingPathComponent("agentauth.sqlite").path)
            let keyFile = try String(contentsOf: stack.directory.appendingPathComponent("agentauth.key"), encoding: .utf8)
            return try await SigningKeyRing(store: store, masterKey: try MasterKey(base64: keyFile)).activeKey()
        }

        /// A token the thief mints for `agent` (an existing one: the auth server checks): valid claims for an hour, signed with `key`.
        static func forge(_ stack: Stack, key: SigningKeyMaterial, agent: String = "agt_thief") throws -> String {
            let now = Int(Date().timeIntervalSince1970)
            let header = #"{"alg":"\#(key.algorithm.rawValue)","kid":"\#(key.kid)","typ":"at+jwt"}"#
            let payload =
                #"{"iss":"\#(stack.auth)","sub":"\#(agent)","client_id":"cli_thief","aud":"agentauth","exp":\#(now + 3600),"iat":\#(now),"nbf":\#(now),"jti":"at_\#(UUID().uuidString)","scope":"conversations:read"}"#
            let input = Base64URL.encode(Data(header.utf8)) + "." + Base64URL.encode(Data(payload.utf8))
            return input + "." + Base64URL.encode(try key.jwtAlgorithm.sign(Array(input.utf8)))
        }

        static func apiStatus(_ stack: Stack, _ token: String) async throws -> Int {
            try await HTTP.send(.GET, "\(stack.api)/v1/conversations", headers: [("Authorization", "Bearer \(token)")]).status
        }

        static func introspectionActive(_ stack: Stack, _ token: String) async throws -> Bool {
            let headers = [("X-API-Key", stack.admin[0].1), ("Content-Type", "application/x-www-form-urlencoded")]
            return try await HTTP.send(.POST, "\(stack.auth)/oauth/introspect", headers: headers, body: "token=\(token)").json["active"] as? Bool
                == true
        }

        static func kid(of token: String) -> String? {
            let header = try? JSONSerialization.jsonObject(with: Data(base64URL: String(token.split(separator: ".")[0]))) as? [String: Any]
            return header?["kid"] as? String
        }

        @Test("52: once a retired key has left the JWKS, tokens signed with it (a leaked key) are refused by the resource server too, cached or not")
        func retiredKeyLeavesResourceServers() async throws {
            try await Self.withStack { stack in
                let agent = try #require(
                    try await HTTP.send(.POST, "\(stack.auth)/admin/agents", headers: stack.admin, body: #"{"name":"worker"}"#).json["id"] as? String
                )
                let leaked = try await Self.leakedKey(stack)
                let cached = try Self.forge(stack, key: leaked, agent: agent)
                #expect(try await Self.apiStatus(stack, cached) == 200, "before the rotation the key is trusted (and the token cached)")

                let rotated = try await HTTP.send(.POST, "\(stack.auth)/admin/signing-keys/rotate", headers: stack.admin)
                #expect(rotated.status == 201)
                let listed = try await HTTP.send(.GET, "\(stack.auth)/admin/signing-keys", headers: stack.admin)
                let old = try #require((listed.json["keys"] as? [[String: Any]])?.first { $0["kid"] as? String == leaked.kid })
                let publishedUntil = try #require((old["published_until"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
                // No client exists: the key stays for the 30 s leeway and the 30 s key refresh, after the activation delay.
                #expect(publishedUntil.timeIntervalSinceNow > 55 && publishedUntil.timeIntervalSinceNow < 75, "\(publishedUntil)")

                // SECURITY-CASES 47: until then it verifies everywhere.
                try await Task.sleep(for: .seconds(max(publishedUntil.timeIntervalSinceNow - 3, 0)))
                #expect(try await Self.apiStatus(stack, try Self.forge(stack, key: leaked, agent: agent)) == 200)
                #expect(try await Self.introspectionActive(stack, try Self.forge(stack, key: leaked, agent: agent)))

                // Then: refused by the auth server and, within a second of it, by the resource server.
                try await Task.sleep(for: .seconds(max(publishedUntil.timeIntervalSinceNow + 1, 0)))
                var refusedAt: Date?
                while refusedAt == nil, Date().timeIntervalSince(publishedUntil) < 10 {
                    if try await Self.apiStatus(stack, try Self.forge(stack, key: leaked, agent: agent)) == 401 { refusedAt = Date() }
                    try await Task.sleep(for: .milliseconds(50))
                }
                let lag = refusedAt.map { $0.timeIntervalSince(publishedUntil) }
                #expect(lag.map { $0 < 2 } == true, "refused \(lag.map { "\($0) s" } ?? "never") after published_until")
                #expect(try await !Self.introspectionActive(stack, try Self.forge(stack, key: leaked, agent: agent)), "the auth server refuses it")
                #expect(try await Self.apiStatus(stack, cached) == 401, "a token cached before the rotation is refused as well")
                let jwks = try await HTTP.send(.GET, "\(stack.auth)/.well-known/jwks.json")
                #expect(!jwks.body.contains(leaked.kid), "the key has left the JWKS")
            }
        }

        @Test("56: one forged token with a random kid, then a rotation: tokens of the new key are accepted at the resource server at once")
        func forgedKidDoesNotBlindAfterRotation() async throws {
            try await Self.withStack { stack in
                let agent = try #require(
                    try await HTTP.send(.POST, "\(stack.auth)/admin/agents", headers: stack.admin, body: #"{"name":"worker"}"#).json["id"] as? String
                )
                let client = try await HTTP.send(
                    .POST,
                    "\(stack.auth)/admin/agents/\(agent)/clients",
                    headers: stack.admin,
                    body: #"{"scope":"conversations:read"}"#
                )
                let clientID = try #require(client.json["client_id"] as? String)
                let secret = try #require(client.json["client_secret"] as? String)
                let before = try await HTTP.clientCredentialsToken(stack.auth, clientID: clientID, secret: secret)
                #expect(try await Self.apiStatus(stack, before) == 200)

                // One forged token naming a kid nobody has: the resource server refetches once and starts its cool-down.
                let attacker = try await SigningKeyMaterial.generate(.eddsa).material
                #expect(try await Self.apiStatus(stack, try Self.forge(stack, key: attacker)) == 401)

                let rotatedAt = ContinuousClock.now
                let rotated = try await HTTP.send(.POST, "\(stack.auth)/admin/signing-keys/rotate", headers: stack.admin)
                let newKid = try #require(rotated.json["kid"] as? String)
                #expect(try await HTTP.send(.GET, "\(stack.auth)/.well-known/jwks.json").body.contains(newKid), "published at once")
                var fresh = try await HTTP.clientCredentialsToken(stack.auth, clientID: clientID, secret: secret)
                while Self.kid(of: fresh) != newKid, ContinuousClock.now - rotatedAt < .seconds(30) {
                    try await Task.sleep(for: .milliseconds(100))
                    fresh = try await HTTP.clientCredentialsToken(stack.auth, clientID: clientID, secret: secret)
                }
                #expect(Self.kid(of: fresh) == newKid, "the server signs with the new key after the activation delay")
                let status = try await Self.apiStatus(stack, fresh)
                #expect(status == 200, "the first token of the new key, \(ContinuousClock.now - rotatedAt) after the rotation → \(status)")
                #expect(try await Self.apiStatus(stack, before) == 200, "tokens of the retired key still verify")
                #expect(try await Self.apiStatus(stack, try Self.forge(stack, key: attacker)) == 401)
            }
        }
    }
}
