import AgentAuthTesting
import Foundation
import Glibc
import NIOHTTP1
import Testing

extension TimedProcessTests {
    /// Confirmed revocation across processes: two `example-agent-api` verifiers serving an API key
    /// from their caches (on by default), the auth server's answer listing them, a verifier
    /// stopped with SIGSTOP, and verifiers of another node on PostgreSQL.
    @Suite("Confirmed revocation across processes", .serialized)
    struct ConfirmedRevocationTests {
        static func apiKey(_ auth: String, admin: [(String, String)], agent: String) async throws -> (id: String, key: String) {
            let created = try await HTTP.send(
                .POST,
                "\(auth)/admin/agents/\(agent)/keys",
                headers: admin,
                body: #"{"scopes":["conversations:read"]}"#
            )
            return (try #require(created.json["id"] as? String), try #require(created.json["key"] as? String))
        }

        static func agent(_ auth: String, admin: [(String, String)]) async throws -> String {
            try #require(try await HTTP.send(.POST, "\(auth)/admin/agents", headers: admin, body: #"{"name":"worker"}"#).json["id"] as? String)
        }

        /// The registry's entries by name.
        static func verifiers(_ auth: String, admin: [(String, String)]) async throws -> [String: [String: Any]] {
            let listed = try #require(try await HTTP.send(.GET, "\(auth)/admin/verifiers", headers: admin).json["verifiers"] as? [[String: Any]])
            return Dictionary(listed.map { ($0["name"] as? String ?? "", $0) }) { first, _ in first }
        }

        static func conversations(_ api: String, key: String) async throws -> Int {
            try await HTTP.send(.GET, "\(api)/v1/conversations", headers: [("X-API-Key", key)]).status
        }

        @Test("revoking a key served from two APIs' caches answers with both confirmed, and the very next request at each is 401")
        func twoVerifiersConfirm() async throws {
            try await withTemporaryDirectory { directory in
                let auth = try await AuthServerProcess.start(in: directory)
                defer { auth.process.stop() }
                let one = try await ExampleAPIProcess.start(
                    authServer: auth.base,
                    admin: auth.admin,
                    in: directory,
                    arguments: ["--verifier-name", "api-one"]
                )
                defer { one.process.stop() }
                let two = try await ExampleAPIProcess.start(
                    authServer: auth.base,
                    admin: auth.admin,
                    in: directory,
                    arguments: ["--verifier-name", "api-two"]
                )
                defer { two.process.stop() }

                let listed = try await Self.verifiers(auth.base, admin: auth.admin)
                #expect(Set(listed.keys) == ["api-one", "api-two"], "both registered: \(listed.keys)")
                #expect(listed.values.allSatisfy { $0["status"] as? String == "live" })
                let ids = Set(listed.values.compactMap { $0["id"] as? String })

                let agent = try await Self.agent(auth.base, admin: auth.admin)
                let key = try await Self.apiKey(auth.base, admin: auth.admin, agent: agent)
                for api in [one.base, two.base] {
                    #expect(try await Self.conversations(api, key: key.key) == 200)
                    #expect(try await Self.conversations(api, key: key.key) == 200, "from the cache")
                }
                let revoked = try await HTTP.send(.POST, "\(auth.base)/admin/keys/\(key.id)/revoke", headers: auth.admin)
                #expect(revoked.status == 200)
                let propagation = try #require(revoked.json["propagation"] as? [String: Any], "\(revoked.body)")
                #expect(propagation["confirmed"] as? Int == 2, "\(propagation)")
                #expect((propagation["pending"] as? [String])?.isEmpty == true, "\(propagation)")
                #expect(try #require(propagation["waited_ms"] as? Int) < 2000, "answered on the acknowledgements")
                // No waiting, no retry: the answer is the proof.
                #expect(try await Self.conversations(one.base, key: key.key) == 401)
                #expect(try await Self.conversations(two.base, key: key.key) == 401)

                // A roll without grace: the old key is dropped from both caches before the answer.
                let rolling = try await Self.apiKey(auth.base, admin: auth.admin, agent: agent)
                for api in [one.base, two.base] { #expect(try await Self.conversations(api, key: rolling.key) == 200) }
                let rolled = try await HTTP.send(
                    .POST,
                    "\(auth.base)/admin/keys/\(rolling.id)/roll",
                    headers: auth.admin,
                    body: #"{"grace_seconds":0}"#
                )
                #expect(rolled.status == 201)
                let rollProof = try #require(rolled.json["propagation"] as? [String: Any], "\(rolled.body)")
                #expect(rollProof["confirmed"] as? Int == 2 && (rollProof["pending"] as? [String])?.isEmpty == true, "\(rollProof)")
                let replacement = try #require(rolled.json["key"] as? String)
                for api in [one.base, two.base] {
                    #expect(try await Self.conversations(api, key: rolling.key) == 401, "the old key, on the very next request")
                    #expect(try await Self.conversations(api, key: replacement) == 200, "the new one works")
                }

                // An agent disable is confirmed the same way, and cuts off its other keys at once.
                let second = try await Self.apiKey(auth.base, admin: auth.admin, agent: agent)
                #expect(try await Self.conversations(one.base, key: second.key) == 200)
                #expect(try await Self.conversations(two.base, key: second.key) == 200)
                let disabled = try await HTTP.send(.POST, "\(auth.base)/admin/agents/\(agent)/disable", headers: auth.admin)
                let disableProof = try #require(disabled.json["propagation"] as? [String: Any], "\(disabled.body)")
                #expect(disableProof["confirmed"] as? Int == 2 && (disableProof["pending"] as? [String])?.isEmpty == true)
                #expect(try await Self.conversations(one.base, key: second.key) == 401)
                #expect(try await Self.conversations(two.base, key: second.key) == 401)

                // The CLI waits for them too, through the store.
                let third = try await Self.apiKey(auth.base, admin: auth.admin, agent: try await Self.agent(auth.base, admin: auth.admin))
                #expect(try await Self.conversations(one.base, key: third.key) == 200)
                let cli = try await Binaries.agentauth(["keys", "revoke", third.id, "--json"], in: directory)
                #expect(cli.status == 0, "\(cli.stderr)")
                let cliProof = try #require(cli.json["propagation"] as? [String: Any], "\(cli.stdout)")
                #expect(cliProof["confirmed"] as? Int == 2 && (cliProof["pending"] as? [String])?.isEmpty == true, "\(cliProof)")
                #expect(try await Self.conversations(one.base, key: third.key) == 401)
                let table = try await Binaries.agentauth(["verifiers"], in: directory)
                #expect(table.status == 0 && table.stdout.contains("api-one") && table.stdout.contains("api-two"), "\(table.stdout)")
                let json = try await Binaries.agentauth(["verifiers", "--json"], in: directory)
                let entries = try #require(json.json["verifiers"] as? [[String: Any]], "\(json.stdout)")
                #expect(Set(entries.compactMap { $0["id"] as? String }) == ids)
            }
        }

        @Test(
            "a verifier stopped with SIGSTOP is pending, the answer comes at the timeout, and once resumed past its bound it refuses the cached key"
        )
        func stoppedVerifier() async throws {
            try await withTemporaryDirectory { directory in
                let auth = try await AuthServerProcess.start(in: directory, arguments: ["--revocation-confirm-timeout", "1.5"])
                defer { auth.process.stop() }
                let live = try await ExampleAPIProcess.start(
                    authServer: auth.base,
                    admin: auth.admin,
                    in: directory,
                    arguments: ["--verifier-name", "running"]
                )
                defer { live.process.stop() }
                // A short bound, so the test need not wait the default 15 s.
                let frozen = try await ExampleAPIProcess.start(
                    authServer: auth.base,
                    admin: auth.admin,
                    in: directory,
                    arguments: ["--verifier-name", "frozen", "--staleness-seconds", "5"]
                )
                defer {
                    frozen.process.process.send(SIGCONT)
                    frozen.process.stop()
                }
                let frozenID = try #require(try await Self.verifiers(auth.base, admin: auth.admin)["frozen"]?["id"] as? String)
                let agent = try await Self.agent(auth.base, admin: auth.admin)
                let key = try await Self.apiKey(auth.base, admin: auth.admin, agent: agent)
                #expect(try await Self.conversations(live.base, key: key.key) == 200)
                #expect(try await Self.conversations(frozen.base, key: key.key) == 200, "cached at the verifier about to stop")

                frozen.process.process.send(SIGSTOP)
                let started = ContinuousClock.now
                let revoked = try await HTTP.send(.POST, "\(auth.base)/admin/keys/\(key.id)/revoke", headers: auth.admin)
                let took = ContinuousClock.now - started
                let propagation = try #require(revoked.json["propagation"] as? [String: Any], "\(revoked.body)")
                #expect(propagation["confirmed"] as? Int == 1, "the running one: \(propagation)")
                #expect(propagation["pending"] as? [String] == [frozenID], "\(propagation)")
                #expect(took >= .milliseconds(1500) && took < .seconds(10), "answered at the timeout: \(took)")
                #expect(try await Self.conversations(live.base, key: key.key) == 401)
                let frozenEntry = try #require(try await Self.verifiers(auth.base, admin: auth.admin)["frozen"])
                #expect(frozenEntry["status"] as? String == "live", "still within its bound")
                #expect(try #require(frozenEntry["lag_ms"] as? Int) >= 1000, "and behind: \(frozenEntry)")

                // Past its bound it counts as stale, and it stopped trusting its cache itself.
                let deadline = ContinuousClock.now + .seconds(15)
                while try await Self.verifiers(auth.base, admin: auth.admin)["frozen"]?["status"] as? String != "stale" {
                    guard ContinuousClock.now < deadline else { throw CLIFailure("the stopped verifier never turned stale") }
                    try await Task.sleep(for: .milliseconds(200))
                }
                try await Task.sleep(for: .seconds(1))
                frozen.process.process.send(SIGCONT)
                #expect(try await Self.conversations(frozen.base, key: key.key) == 401, "the cached result is not used")
            }
        }

        @Test(
            "fail-safe: a verifier that has not heard from the feed for longer than its bound stops using cached API-key results, and says so in /readyz and /metrics"
        )
        func failSafe() async throws {
            try await withTemporaryDirectory { directory in
                let auth = try await AuthServerProcess.start(in: directory)
                defer { auth.process.stop() }
                let api = try await ExampleAPIProcess.start(
                    authServer: auth.base,
                    admin: auth.admin,
                    in: directory,
                    arguments: ["--verifier-name", "cut-off", "--staleness-seconds", "3"]
                )
                defer { api.process.stop() }
                let agent = try await Self.agent(auth.base, admin: auth.admin)
                let key = try await Self.apiKey(auth.base, admin: auth.admin, agent: agent)
                #expect(try await Self.conversations(api.base, key: key.key) == 200)
                #expect(try await HTTP.send(.GET, "\(api.base)/metrics").body.contains("agentauth_revocation_feed_fresh 1"))

                // The auth server goes away: neither the feed nor introspection answers.
                auth.process.stop()
                #expect(try await Self.conversations(api.base, key: key.key) == 200, "within its bound, the cached result is trusted")
                let deadline = ContinuousClock.now + .seconds(15)
                while try await HTTP.send(.GET, "\(api.base)/readyz").status != 503 {
                    guard ContinuousClock.now < deadline else { throw CLIFailure("the verifier never stopped trusting its cache") }
                    try await Task.sleep(for: .milliseconds(200))
                }
                let refused = try await HTTP.send(.GET, "\(api.base)/v1/conversations", headers: [("X-API-Key", key.key)])
                #expect(refused.status == 503, "past its bound the key is asked about, and nobody answers: fail closed, not 200")
                #expect(refused.json["error"] as? String == "temporarily_unavailable")
                #expect(try await HTTP.send(.GET, "\(api.base)/metrics").body.contains("agentauth_revocation_feed_fresh 0"))
            }
        }

        @Test("PostgreSQL: a key revoked on node A is confirmed by the verifiers following node B")
        func crossNode() async throws {
            let url = try await ThrowawayPostgres.newDatabase(prefix: "agentauth_confirm_")
            try await withTemporaryDirectory { directory in
                let initialized = try await Binaries.agentauth(["init", "--json", "--database", url], in: directory)
                let adminKey = try #require(initialized.json["admin_key"] as? String)
                let admin = [("X-API-Key", adminKey), ("Content-Type", "application/json")]
                var nodes: [RunningProcess] = []
                defer { for node in nodes { node.stop() } }
                var bases: [String] = []
                for _ in 0..<2 {
                    let port = try LoopbackPort.free()
                    let node = try await RunningProcess(
                        "agentauth",
                        ["serve", "--database", url, "--port", "\(port)", "--issuer", "https://auth.test"],
                        in: directory
                    )
                    nodes.append(node)
                    try await node.waitForOutput("AgentAuth listening")
                    bases.append("http://127.0.0.1:\(port)")
                    try await WalkthroughTests.waitUntilHealthy(bases.last!)
                }
                let (a, b) = (bases[0], bases[1])
                let apis = [
                    try await ExampleAPIProcess.start(
                        authServer: b,
                        admin: admin,
                        in: directory,
                        arguments: ["--verifier-name", "b-one", "--issuer", "https://auth.test"]
                    ),
                    try await ExampleAPIProcess.start(
                        authServer: b,
                        admin: admin,
                        in: directory,
                        arguments: ["--verifier-name", "b-two", "--issuer", "https://auth.test"]
                    ),
                ]
                defer { for api in apis { api.process.stop() } }
                #expect(Set(try await Self.verifiers(a, admin: admin).keys) == ["b-one", "b-two"], "node A lists node B's verifiers")

                let agent = try await Self.agent(a, admin: admin)
                let key = try await Self.apiKey(a, admin: admin, agent: agent)
                for api in apis { #expect(try await Self.conversations(api.base, key: key.key) == 200) }
                let revoked = try await HTTP.send(.POST, "\(a)/admin/keys/\(key.id)/revoke", headers: admin)
                let propagation = try #require(revoked.json["propagation"] as? [String: Any], "\(revoked.body)")
                #expect(propagation["confirmed"] as? Int == 2 && (propagation["pending"] as? [String])?.isEmpty == true, "\(propagation)")
                for api in apis { #expect(try await Self.conversations(api.base, key: key.key) == 401) }
            }
        }
    }
}
