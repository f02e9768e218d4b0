import AgentAuthCore
import AgentAuthSQLite
import AgentAuthTesting
import Foundation
import JWTKit
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension TimedProcessTests {
    /// The Python reference follower (`docs/reference-follower/agentauth_follower.py`) against a
    /// real `agentauth serve`: the feed as `docs/revocation-feed.md` specifies it, followed from
    /// another language with nothing but the standard library and PyJWT. Running it here keeps the
    /// document and the server true to each other.
    @Suite("The Python reference follower against agentauth serve")
    struct PythonFollowerTests {
        static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/reference-follower/agentauth_follower.py")

        /// python3 with PyJWT and cryptography. Without them the test is cancelled on a developer's
        /// machine, and fails under CI (`CI=true`), which must run it (`.ci/run` installs PyJWT).
        static func requirePython() async throws {
            let probe = try? await ChildProcess.run("/usr/bin/env", ["python3", "-c", "import jwt, cryptography"])
            guard probe?.status != 0 else { return }
            let message =
                "the Python follower test needs python3 with PyJWT and cryptography (pip install pyjwt cryptography): "
                + (probe.map { $0.stderr } ?? "python3 not found")
            if ProcessInfo.processInfo.environment["CI"] == "true" { throw CLIFailure(message) }
            try Test.cancel(Comment(rawValue: message))
        }

        struct Stack {
            let directory: URL
            let auth: String
            let admin: [(String, String)]
            /// The follower's `/check`: 200 for an accepted credential, 401 refused, 503 can't tell.
            let check: String
            /// The verifier id the follower chose (its `verifier` parameter).
            let verifierID: String
            /// The agent whose `introspect` key the follower polls with.
            let serviceAgent: String
            let follower: ChildProcess
        }

        /// Starts the server, runs `prepare` against it (before any follower polls), starts the
        /// follower and waits until it has read the feed to its end, then runs `body`.
        static func withStack<Prepared>(
            followerArguments: [String] = [],
            prepare: (_ auth: String, _ admin: [(String, String)], _ directory: URL) async throws -> Prepared,
            _ body: (Stack, Prepared) async throws -> Void
        ) async throws {
            try await requirePython()
            try await withTemporaryDirectory { directory in
                let server = try await AuthServerProcess.start(in: directory, arguments: ["--signing-key-activation-delay", "1"])
                defer { server.process.stop() }
                let prepared = try await prepare(server.base, server.admin, directory)
                let service = try await createAgent(server.base, server.admin, name: "python-api")
                let key = try await HTTP.send(
                    .POST,
                    "\(server.base)/admin/agents/\(service)/keys",
                    headers: server.admin,
                    body: #"{"scopes":["introspect"]}"#
                )
                let port = try LoopbackPort.free()
                let follower = try await ChildProcess(
                    "/usr/bin/env",
                    [
                        "python3", script.path, "--auth-server", server.base, "--port", "\(port)", "--name", "python-api",
                        "--api-key-ttl", "60",
                    ] + followerArguments,
                    environment: ProcessInfo.processInfo.environment.merging([
                        "AGENTAUTH_CREDENTIAL": try #require(key.json["key"] as? String),
                        "PYTHONUNBUFFERED": "1",
                    ]) { $1 },
                    directory: directory.path
                )
                defer { if follower.isRunning { follower.stop() } }
                try await follower.waitForOutput("listening on", timeout: .seconds(20))
                let verifierID = try #require(follower.output.firstMatch(of: /as verifier (py-[0-9a-f]{16})/).map { String($0.output.1) })
                let stack = Stack(
                    directory: directory,
                    auth: server.base,
                    admin: server.admin,
                    check: "http://127.0.0.1:\(port)/check",
                    verifierID: verifierID,
                    serviceAgent: service,
                    follower: follower
                )
                // Ready once it has read the feed to its end.
                let deadline = ContinuousClock.now + .seconds(20)
                while (try? await HTTP.send(.GET, "http://127.0.0.1:\(port)/status"))?.json["fresh"] as? Bool != true {
                    guard ContinuousClock.now < deadline else { throw CLIFailure("the Python follower never synced:\n\(follower.output)") }
                    try await Task.sleep(for: .milliseconds(100))
                }
                do {
                    try await body(stack, prepared)
                } catch {
                    throw CLIFailure("\(error)\nthe Python follower's output:\n\(follower.output)")
                }
            }
        }

        static func withStack(followerArguments: [String] = [], _ body: (Stack) async throws -> Void) async throws {
            try await withStack(followerArguments: followerArguments, prepare: { _, _, _ in () }, { stack, _ in try await body(stack) })
        }

        static func createAgent(_ auth: String, _ admin: [(String, String)], name: String) async throws -> String {
            let created = try await HTTP.send(.POST, "\(auth)/admin/agents", headers: admin, body: #"{"name":"\#(name)"}"#)
            return try #require(created.json["id"] as? String, "\(created.body)")
        }

        /// A client of `agent` and a client_credentials token of it.
        static func token(
            _ auth: String,
            _ admin: [(String, String)],
            agent: String
        ) async throws -> (token: String, clientID: String, secret: String) {
            let client = try await HTTP.send(.POST, "\(auth)/admin/agents/\(agent)/clients", headers: admin, body: #"{"scope":"conversations:read"}"#)
            let id = try #require(client.json["client_id"] as? String)
            let secret = try #require(client.json["client_secret"] as? String)
            return (try await HTTP.clientCredentialsToken(auth, clientID: id, secret: secret), id, secret)
        }

        static func token(_ stack: Stack, agent: String) async throws -> (token: String, clientID: String, secret: String) {
            try await token(stack.auth, stack.admin, agent: agent)
        }

        /// A new API key of `agent`: the headers that present it, and its id.
        static func apiKey(_ stack: Stack, agent: String) async throws -> (headers: [(String, String)], id: String) {
            let key = try await HTTP.send(
                .POST,
                "\(stack.auth)/admin/agents/\(agent)/keys",
                headers: stack.admin,
                body: #"{"scopes":["conversations:read"]}"#
            )
            return ([("X-API-Key", try #require(key.json["key"] as? String))], try #require(key.json["id"] as? String))
        }

        static func bearer(_ token: String) -> [(String, String)] { [("Authorization", "Bearer \(token)")] }

        /// Asks the follower until it answers `status`; how long that took after `start`.
        static func timeUntil(
            _ status: Int,
            _ stack: Stack,
            _ headers: [(String, String)],
            since start: ContinuousClock.Instant
        ) async throws -> Duration {
            while ContinuousClock.now - start < .seconds(5) {
                if try await HTTP.send(.GET, stack.check, headers: headers).status == status { return ContinuousClock.now - start }
                try await Task.sleep(for: .milliseconds(20))
            }
            return .seconds(999)
        }

        /// A token signed with `key` (the server's own, taken from its database with the master key
        /// file, or an attacker's), with the claims and header given.
        static func forge(
            _ stack: Stack,
            key: SigningKeyMaterial,
            kid: String? = nil,
            typ: String = "at+jwt",
            sub: String,
            audience: String
        ) throws -> String {
            let now = Int(Date().timeIntervalSince1970)
            let header = #"{"alg":"\#(key.algorithm.rawValue)","kid":"\#(kid ?? key.kid)","typ":"\#(typ)"}"#
            let payload =
                #"{"iss":"\#(stack.auth)","sub":"\#(sub)","client_id":"cli_forged","aud":"\#(audience)","exp":\#(now + 600),"iat":\#(now),"jti":"at_\#(UUID().uuidString)","scope":"conversations:read"}"#
            let input = Base64URL.encode(Data(header.utf8)) + "." + Base64URL.encode(Data(payload.utf8))
            return input + "." + Base64URL.encode(try key.jwtAlgorithm.sign(Array(input.utf8)))
        }

        static func serverKey(_ stack: Stack) async throws -> SigningKeyMaterial {
            let store = try SQLiteStore(path: stack.directory.appendingPathComponent("agentauth.sqlite").path)
            let keyFile = try String(contentsOf: stack.directory.appendingPathComponent("agentauth.key"), encoding: .utf8)
            return try await SigningKeyRing(store: store, masterKey: try MasterKey(base64: keyFile)).activeKey()
        }

        static func kid(of token: String) -> String? {
            let header = try? JSONSerialization.jsonObject(with: Data(base64URL: String(token.split(separator: ".")[0]))) as? [String: Any]
            return header?["kid"] as? String
        }

        @Test(
            "the Python follower accepts a token and refuses it once revoked, a delegated token once its parent is revoked, a disabled agent's token (also after enable), a cached API key once revoked; a rotated-in key's tokens pass"
        )
        func followsTheFeed() async throws {
            try await Self.withStack { stack in
                let worker = try await Self.createAgent(stack.auth, stack.admin, name: "worker")

                // RFC 9068 checks: only a token signed by the server's key, typed at+jwt, for this audience, passes.
                let serverKey = try await Self.serverKey(stack)
                let check = { (token: String) in try await HTTP.send(.GET, stack.check, headers: Self.bearer(token)).status }
                #expect(try await check(try Self.forge(stack, key: serverKey, sub: worker, audience: "agentauth")) == 200, "the server's key signs")
                #expect(try await check(try Self.forge(stack, key: serverKey, sub: worker, audience: "other-api")) == 401, "another audience")
                #expect(try await check(try Self.forge(stack, key: serverKey, typ: "JWT", sub: worker, audience: "agentauth")) == 401, "typ JWT")
                let attacker = try await SigningKeyMaterial.generate(.eddsa).material
                #expect(
                    try await check(try Self.forge(stack, key: attacker, kid: serverKey.kid, sub: worker, audience: "agentauth")) == 401,
                    "a key of its own"
                )
                let unsigned =
                    Base64URL.encode(Data(#"{"alg":"none","typ":"at+jwt"}"#.utf8)) + "." + Base64URL.encode(Data(#"{"sub":"x"}"#.utf8)) + "."
                #expect(try await check(unsigned) == 401, "alg none")

                // A token, then revoked (RFC 7009).
                let (token, clientID, secret) = try await Self.token(stack, agent: worker)
                let accepted = try await HTTP.send(.GET, stack.check, headers: Self.bearer(token))
                #expect(accepted.status == 200, "\(accepted.body)")
                #expect(accepted.json["agent_id"] as? String == worker)
                let revokeStart = ContinuousClock.now
                let revoked = try await HTTP.send(
                    .POST,
                    "\(stack.auth)/oauth/revoke",
                    headers: HTTP.basicForm(clientID: clientID, secret: secret),
                    body: "token=\(token)"
                )
                #expect(revoked.status == 200)
                let revokedAfter = try await Self.timeUntil(401, stack, Self.bearer(token), since: revokeStart)
                #expect(revokedAfter < .seconds(1), "a revoked token refused after \(revokedAfter)")

                // A delegated token (`ancestors`): refused once the token it was exchanged from is revoked.
                let (parent, parentClient, parentSecret) = try await Self.token(stack, agent: worker)
                let exchanged = try await HTTP.delegatedToken(stack.auth, admin: stack.admin, subjectToken: parent)
                let child = Self.bearer(try #require(exchanged.json["access_token"] as? String, "\(exchanged.body)"))
                #expect(try await HTTP.send(.GET, stack.check, headers: child).status == 200)
                let cascadeStart = ContinuousClock.now
                _ = try await HTTP.send(
                    .POST,
                    "\(stack.auth)/oauth/revoke",
                    headers: HTTP.basicForm(clientID: parentClient, secret: parentSecret),
                    body: "token=\(parent)"
                )
                let cascadeAfter = try await Self.timeUntil(401, stack, child, since: cascadeStart)
                #expect(cascadeAfter < .seconds(1), "a delegated token of a revoked parent refused after \(cascadeAfter)")

                // A disabled agent (a watermark): its tokens are refused, and stay refused after enable.
                let (other, otherClient, otherSecret) = try await Self.token(stack, agent: worker)
                #expect(try await HTTP.send(.GET, stack.check, headers: Self.bearer(other)).status == 200)
                let disableStart = ContinuousClock.now
                _ = try await HTTP.send(.POST, "\(stack.auth)/admin/agents/\(worker)/disable", headers: stack.admin)
                let disabledAfter = try await Self.timeUntil(401, stack, Self.bearer(other), since: disableStart)
                #expect(disabledAfter < .seconds(1), "a disabled agent's token refused after \(disabledAfter)")
                _ = try await HTTP.send(.POST, "\(stack.auth)/admin/agents/\(worker)/enable", headers: stack.admin)
                // A token issued in the same second as the disable is refused too (`iat` has whole seconds).
                try await Task.sleep(for: .milliseconds(1100))
                let later = try await HTTP.clientCredentialsToken(stack.auth, clientID: otherClient, secret: otherSecret)
                #expect(try await HTTP.send(.GET, stack.check, headers: Self.bearer(later)).status == 200, "a token issued after enable passes")
                #expect(try await HTTP.send(.GET, stack.check, headers: Self.bearer(other)).status == 401, "enabling does not revive old tokens")

                // An API key, served from the follower's cache, then revoked: the feed evicts it.
                let (apiKey, keyID) = try await Self.apiKey(stack, agent: worker)
                let first = try await HTTP.send(.GET, stack.check, headers: apiKey)
                #expect(first.status == 200, "\(first.body)")
                #expect(first.json["cached"] as? Bool == false)
                #expect(try await HTTP.send(.GET, stack.check, headers: apiKey).json["cached"] as? Bool == true, "served from the cache")
                let keyStart = ContinuousClock.now
                let keyRevoked = try await HTTP.send(
                    .POST,
                    "\(stack.auth)/admin/keys/\(keyID)/revoke",
                    headers: stack.admin
                )
                #expect(keyRevoked.status == 200)
                let keyAfter = try await Self.timeUntil(401, stack, apiKey, since: keyStart)
                #expect(keyAfter < .seconds(1), "a revoked cached API key refused after \(keyAfter)")

                // A signing-key rotation: the feed announces the new key, and its first token passes.
                let (before, rotClient, rotSecret) = try await Self.token(stack, agent: worker)
                let rotatedAt = ContinuousClock.now
                let rotated = try await HTTP.send(.POST, "\(stack.auth)/admin/signing-keys/rotate", headers: stack.admin)
                #expect(rotated.status == 201)
                let newKid = try #require(rotated.json["kid"] as? String)
                var fresh = try await HTTP.clientCredentialsToken(stack.auth, clientID: rotClient, secret: rotSecret)
                while Self.kid(of: fresh) != newKid, ContinuousClock.now - rotatedAt < .seconds(20) {
                    try await Task.sleep(for: .milliseconds(100))
                    fresh = try await HTTP.clientCredentialsToken(stack.auth, clientID: rotClient, secret: rotSecret)
                }
                #expect(Self.kid(of: fresh) == newKid, "the server signs with the new key after the activation delay")
                let freshAnswer = try await HTTP.send(.GET, stack.check, headers: Self.bearer(fresh))
                #expect(freshAnswer.status == 200, "the first token of the rotated-in key: \(freshAnswer.body)")
                #expect(try await HTTP.send(.GET, stack.check, headers: Self.bearer(before)).status == 200, "the retired key's tokens still pass")
                #expect(stack.follower.isRunning)
            }
        }

        /// Runs SQL on the server's database with python3's sqlite3 module, as another writer of
        /// the store (the CLI, another node, a restored backup) would change it.
        static func sqlite(_ directory: URL, _ script: String) async throws {
            let path = directory.appendingPathComponent("agentauth.sqlite").path
            let result = try await ChildProcess.run(
                "/usr/bin/env",
                [
                    "python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1], timeout=10); c.executescript(sys.argv[2]); c.commit()", path,
                    script,
                ]
            )
            guard result.status == 0 else { throw CLIFailure("sqlite3 failed: \(result.stderr)") }
        }

        /// The `jti` claim of a token.
        static func jti(of token: String) -> String? {
            let payload = try? JSONSerialization.jsonObject(with: Data(base64URL: String(token.split(separator: ".")[1]))) as? [String: Any]
            return payload?["jti"] as? String
        }

        static func status(_ stack: Stack) async throws -> [String: Any] {
            try await HTTP.send(.GET, stack.check.replacingOccurrences(of: "/check", with: "/status")).json
        }

        @Test("the Python follower reads a feed of several pages to its end before it trusts it, and starts over on reset")
        func pagingAndReset() async throws {
            try await Self.withStack { auth, admin, directory in
                // 1,500 revoked tokens before the follower starts; the real one is the last, in the second page.
                let worker = try await Self.createAgent(auth, admin, name: "worker")
                let (revoked, clientID, secret) = try await Self.token(auth, admin, agent: worker)
                let expires = Int(Date().timeIntervalSince1970) + 3600
                let fillers = (0..<1499).map { "('token', 'at_filler_\($0)', '\(worker)', \(expires - 3600), \(expires))" }
                try await Self.sqlite(
                    directory,
                    "INSERT INTO revocation_events (kind, subject, agent_id, at, expires_at) VALUES \(fillers.joined(separator: ","));"
                        + "INSERT INTO revocation_events (kind, subject, agent_id, at, expires_at) VALUES ('token', '\(try #require(Self.jti(of: revoked)))', '\(worker)', \(expires - 3600), \(expires));"
                )
                return (revoked: revoked, clientID: clientID, secret: secret, worker: worker)
            } _: { stack, prepared in
                let synced = try await Self.status(stack)
                #expect(synced["revoked_tokens"] as? Int == 1500, "\(synced)")
                #expect(try await HTTP.send(.GET, stack.check, headers: Self.bearer(prepared.revoked)).status == 401, "revoked in the second page")
                let token = try await HTTP.clientCredentialsToken(stack.auth, clientID: prepared.clientID, secret: prepared.secret)
                #expect(try await HTTP.send(.GET, stack.check, headers: Self.bearer(token)).status == 200)

                // The store goes back to an older state (a backup taken at seq 1000 restored): the
                // follower's cursor (1500) is one the server never issued, the feed answers `reset`, and
                // the follower starts over from 0: it holds what the store holds, and applies what follows.
                try await Self.sqlite(
                    stack.directory,
                    "DELETE FROM revocation_events WHERE seq > 1000; UPDATE sqlite_sequence SET seq = 1000 WHERE name = 'revocation_events';"
                )
                let deadline = ContinuousClock.now + .seconds(15)
                // Until it has started over and read the feed to its end again.
                while ContinuousClock.now < deadline {
                    let status = try await Self.status(stack)
                    if status["resets"] as? Int == 1, status["fresh"] as? Bool == true { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                let reset = try await Self.status(stack)
                #expect(reset["resets"] as? Int == 1, "\(reset)")
                #expect(reset["revoked_tokens"] as? Int == 1000, "\(reset)")
                #expect(reset["cursor"] as? Int == 1000, "\(reset)")
                #expect(reset["fresh"] as? Bool == true, "\(reset)")
                let start = ContinuousClock.now
                _ = try await HTTP.send(
                    .POST,
                    "\(stack.auth)/oauth/revoke",
                    headers: HTTP.basicForm(clientID: prepared.clientID, secret: prepared.secret),
                    body: "token=\(token)"
                )
                let after = try await Self.timeUntil(401, stack, Self.bearer(token), since: start)
                #expect(after < .seconds(1), "a token revoked after the reset refused after \(after)")
            }
        }

        @Test("the Python follower is a registered verifier: listed in GET /admin/verifiers, and counted as confirmed by a key revocation")
        func registeredVerifier() async throws {
            try await Self.withStack { stack in
                let listed = try await HTTP.send(.GET, "\(stack.auth)/admin/verifiers", headers: stack.admin)
                #expect(listed.status == 200, "\(listed.body)")
                let entry = (listed.json["verifiers"] as? [[String: Any]])?.first { $0["id"] as? String == stack.verifierID }
                #expect(entry?["name"] as? String == "python-api", "\(listed.body)")
                #expect(entry?["agent_id"] as? String == stack.serviceAgent)
                #expect(entry?["status"] as? String == "live")
                #expect(entry?["bound_ms"] as? Int == 15000)

                let worker = try await Self.createAgent(stack.auth, stack.admin, name: "worker")
                let (apiKey, keyID) = try await Self.apiKey(stack, agent: worker)
                #expect(try await HTTP.send(.GET, stack.check, headers: apiKey).status == 200)
                #expect(try await HTTP.send(.GET, stack.check, headers: apiKey).json["cached"] as? Bool == true)
                let revoked = try await HTTP.send(
                    .POST,
                    "\(stack.auth)/admin/keys/\(keyID)/revoke",
                    headers: stack.admin
                )
                let propagation = revoked.json["propagation"] as? [String: Any]
                #expect(propagation?["confirmed"] as? Int == 1, "\(revoked.body)")
                #expect((propagation?["pending"] as? [String])?.isEmpty == true, "\(revoked.body)")
                // Confirmed means applied: the very next request is refused, with no waiting.
                #expect(try await HTTP.send(.GET, stack.check, headers: apiKey).status == 401)
            }
        }

        @Test(
            "a stopped Python follower is pending in a key revocation's propagation, and once resumed past its bound it no longer accepts the key it cached"
        )
        func stoppedVerifier() async throws {
            // A 4 s bound (1 s waits) keeps the test short; the logic is the default's. It outlasts the
            // 2 s confirmation timeout: a verifier that turns stale during the wait is no longer waited for.
            try await Self.withStack(followerArguments: ["--bound-ms", "4000", "--wait", "1"]) { stack in
                let worker = try await Self.createAgent(stack.auth, stack.admin, name: "worker")
                let (apiKey, keyID) = try await Self.apiKey(stack, agent: worker)
                #expect(try await HTTP.send(.GET, stack.check, headers: apiKey).status == 200)
                #expect(try await HTTP.send(.GET, stack.check, headers: apiKey).json["cached"] as? Bool == true)

                stack.follower.send(SIGSTOP)
                defer { stack.follower.send(SIGCONT) }
                let revoked = try await HTTP.send(.POST, "\(stack.auth)/admin/keys/\(keyID)/revoke", headers: stack.admin)
                let propagation = revoked.json["propagation"] as? [String: Any]
                #expect(propagation?["confirmed"] as? Int == 0, "\(revoked.body)")
                #expect(propagation?["pending"] as? [String] == [stack.verifierID], "\(revoked.body)")
                #expect((propagation?["waited_ms"] as? Int ?? 0) >= 1900, "the answer came at the confirmation timeout: \(revoked.body)")

                // Past its bound the registry lists it stale, and it, resumed, refuses the key it cached.
                try await Task.sleep(for: .milliseconds(2500))
                let listed = try await HTTP.send(.GET, "\(stack.auth)/admin/verifiers", headers: stack.admin)
                let entry = (listed.json["verifiers"] as? [[String: Any]])?.first { $0["id"] as? String == stack.verifierID }
                #expect(entry?["status"] as? String == "stale", "\(listed.body)")
                stack.follower.send(SIGCONT)
                #expect(try await HTTP.send(.GET, stack.check, headers: apiKey).status == 401)
            }
        }
    }
}
