import AgentAuthTesting
import Foundation
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `agentauth` on PostgreSQL: `--database postgres://…` end to end.
@Suite("agentauth on PostgreSQL", .serialized)
struct PostgresCLITests {
    static func database() async throws -> String {
        try await ThrowawayPostgres.newDatabase(prefix: "agentauth_cli_")
    }

    @Test("init, admin commands, serve and a token on a PostgreSQL database")
    func endToEnd() async throws {
        let url = try await Self.database()
        try await withTemporaryDirectory { directory in
            let initialized = try await Binaries.agentauth(["init", "--json", "--database", url], in: directory)
            #expect(initialized.status == 0, "\(initialized.stderr)")
            #expect(
                FileManager.default.fileExists(atPath: directory.appendingPathComponent("agentauth.key").path),
                "the key file is made in the current directory"
            )
            let again = try await Binaries.agentauth(["init", "--database", url], in: directory)
            #expect(again.status == 1)
            let agent = try #require(
                try await Binaries.agentauth(["agents", "create", "pg-agent", "--json", "--database", url], in: directory).json["id"] as? String
            )
            let client = try await Binaries.agentauth(["clients", "create", agent, "--scope", "a", "--json", "--database", url], in: directory)
            let clientID = try #require(client.json["client_id"] as? String)
            let secret = try #require(client.json["client_secret"] as? String)

            let port = try LoopbackPort.free()
            let server = try await RunningProcess("agentauth", ["serve", "--database", url, "--port", "\(port)"], in: directory)
            defer { server.stop() }
            try await server.waitForOutput("AgentAuth listening")
            let base = "http://127.0.0.1:\(port)"
            try await WalkthroughTests.waitUntilHealthy(base)
            #expect(try await HTTP.send(.GET, "\(base)/readyz").status == 200)
            let token = try await HTTP.send(
                .POST,
                "\(base)/oauth/token",
                headers: HTTP.basicForm(clientID: clientID, secret: secret),
                body: "grant_type=client_credentials"
            )
            #expect(token.status == 200, "\(token.body)")
            let audit = try await Binaries.agentauth(["audit", "verify", "--database", url], in: directory)
            #expect(audit.status == 0, "\(audit.stderr)")
        }
    }

    /// `count` servers on the database at `url`, each healthy; the caller stops them.
    static func startNodes(
        _ count: Int,
        url: String,
        in directory: URL,
        arguments: [String] = []
    ) async throws -> [(process: RunningProcess, base: String)] {
        var nodes: [(process: RunningProcess, base: String)] = []
        for _ in 0..<count {
            let port = try LoopbackPort.free()
            let process = try await RunningProcess("agentauth", ["serve", "--database", url, "--port", "\(port)"] + arguments, in: directory)
            nodes.append((process, "http://127.0.0.1:\(port)"))
            do {
                try await process.waitForOutput("AgentAuth listening")
                try await WalkthroughTests.waitUntilHealthy(nodes[nodes.count - 1].base)
            } catch {
                for node in nodes { node.process.stop() }
                throw error
            }
        }
        return nodes
    }

    /// Polls until `check` holds or a second has passed; returns how long it took.
    static func within(_ limit: Duration, _ check: () async throws -> Bool) async throws -> Duration? {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < limit {
            if try await check() { return ContinuousClock.now - start }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    @Test("two nodes on one PostgreSQL: a key made on A works on B; a token revoked on A is refused on B within 1 s; B uses A's new signing key")
    func twoNodes() async throws {
        let url = try await Self.database()
        try await withTemporaryDirectory { directory in
            let initialized = try await Binaries.agentauth(["init", "--json", "--database", url], in: directory)
            let adminKey = try #require(initialized.json["admin_key"] as? String)
            // Both nodes share the issuer, as they would behind one load balancer.
            let nodes = try await Self.startNodes(
                2,
                url: url,
                in: directory,
                arguments: ["--issuer", "https://auth.test", "--signing-key-activation-delay", "3"]
            )
            defer { for node in nodes { node.process.stop() } }
            let (a, b) = (nodes[0].base, nodes[1].base)
            let admin = [("X-API-Key", adminKey), ("Content-Type", "application/json")]
            let form = [("X-API-Key", adminKey), ("Content-Type", "application/x-www-form-urlencoded")]

            // A key created on A works on B.
            let agent = try #require(
                try await HTTP.send(.POST, "\(a)/admin/agents", headers: admin, body: #"{"name":"worker"}"#).json["id"] as? String
            )
            let key = try await HTTP.send(.POST, "\(a)/admin/agents/\(agent)/keys", headers: admin, body: #"{"scopes":["introspect"]}"#)
            let apiKey = try #require(key.json["key"] as? String)
            #expect(try await HTTP.send(.POST, "\(b)/oauth/introspect", headers: form, body: "token=\(apiKey)").json["active"] as? Bool == true)
            // A key revoked on A is refused on B at once (every node reads keys from the store).
            let spare = try await HTTP.send(.POST, "\(a)/admin/agents/\(agent)/keys", headers: admin, body: #"{"scopes":["introspect"]}"#)
            let spareKey = try #require(spare.json["key"] as? String)
            #expect(try await HTTP.send(.POST, "\(a)/admin/keys/\(try #require(spare.json["id"] as? String))/revoke", headers: admin).status == 200)
            #expect(try await HTTP.send(.POST, "\(b)/oauth/introspect", headers: form, body: "token=\(spareKey)").body == #"{"active":false}"#)

            // A token issued on A, revoked on A, is refused on B within a second.
            // Tokens for the nodes' own endpoints carry the admin audience (the issuer), asked for by name.
            let client = try await HTTP.send(
                .POST,
                "\(a)/admin/agents/\(agent)/clients",
                headers: admin,
                body: #"{"scope":"introspect","audience":["https://auth.test"]}"#
            )
            let clientForm = HTTP.basicForm(
                clientID: try #require(client.json["client_id"] as? String),
                secret: try #require(client.json["client_secret"] as? String)
            )
            // Tokens for the nodes' own endpoints, of the admin audience (the issuer), asked for by name.
            func serverToken(from node: String) async throws -> String {
                try #require(
                    try await HTTP.send(
                        .POST,
                        "\(node)/oauth/token",
                        headers: clientForm,
                        body: "grant_type=client_credentials&audience=https%3A%2F%2Fauth.test"
                    ).json["access_token"] as? String
                )
            }
            let token = try await serverToken(from: a)
            let bearer = [("Authorization", "Bearer \(token)"), ("Content-Type", "application/x-www-form-urlencoded")]
            #expect(try await HTTP.send(.POST, "\(b)/oauth/introspect", headers: bearer, body: "token=x").status == 200, "B accepts A's token")
            #expect(try await HTTP.send(.POST, "\(a)/oauth/revoke", headers: clientForm, body: "token=\(token)").status == 200)
            let refused = try await Self.within(.seconds(1)) {
                try await HTTP.send(.POST, "\(b)/oauth/introspect", headers: bearer, body: "token=x").status == 401
            }
            #expect(refused != nil, "B refuses the revoked token within 1 s")

            // A rotates its signing key; B publishes it and verifies tokens A signs with it.
            let rotated = try await HTTP.send(.POST, "\(a)/admin/signing-keys/rotate", headers: admin)
            let kid = try #require(rotated.json["kid"] as? String)
            let published = try await Self.within(.seconds(1)) {
                try await HTTP.send(.GET, "\(b)/.well-known/jwks.json").body.contains(kid)
            }
            #expect(published != nil, "B publishes A's new key within 1 s")
            func signingKid(_ node: String) async throws -> String? {
                let token = try await serverToken(from: node)
                let header = try JSONSerialization.jsonObject(with: Data(base64URL: String(token.split(separator: ".")[0]))) as? [String: Any]
                return header?["kid"] as? String
            }
            let (pendingAtA, pendingAtB) = (try await signingKid(a), try await signingKid(b))
            #expect(pendingAtA != kid && pendingAtB != kid, "during the 3 s activation delay both nodes sign with the old key")
            let handedOver = try await Self.within(.seconds(5)) {
                let (atA, atB) = (try await signingKid(a), try await signingKid(b))
                return atA == kid && atB == kid
            }
            #expect(handedOver != nil, "both nodes sign with the key A rotated in once the delay is over")
            let fresh = try await serverToken(from: a)
            let freshBearer = [("Authorization", "Bearer \(fresh)"), ("Content-Type", "application/x-www-form-urlencoded")]
            #expect(try await HTTP.send(.POST, "\(b)/oauth/introspect", headers: freshBearer, body: "token=x").status == 200)
        }
    }

    @Test("SIGKILL a node during a burst of creations: every agent that got a 201 is in the database")
    func killedMidBurst() async throws {
        let url = try await Self.database()
        try await withTemporaryDirectory { directory in
            let initialized = try await Binaries.agentauth(["init", "--json", "--database", url], in: directory)
            let adminKey = try #require(initialized.json["admin_key"] as? String)
            let port = try LoopbackPort.free()
            let node = try await RunningProcess("agentauth", ["serve", "--database", url, "--port", "\(port)"], in: directory)
            try await node.waitForOutput("AgentAuth listening")
            let base = "http://127.0.0.1:\(port)"
            try await WalkthroughTests.waitUntilHealthy(base)
            let admin = [("X-API-Key", adminKey), ("Content-Type", "application/json")]
            let acknowledged = try await withThrowingTaskGroup(of: String?.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        // Short: once the node is dead, requests must not wait out connection retries.
                        let response = try? await HTTP.send(
                            .POST,
                            "\(base)/admin/agents",
                            headers: admin,
                            body: #"{"name":"burst-\#(index)"}"#,
                            timeout: 3
                        )
                        return response?.status == 201 ? response?.json["id"] as? String : nil
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(150))
                    kill(node.process.processIdentifier, SIGKILL)
                    return nil
                }
                var ids: [String] = []
                for try await id in group { if let id { ids.append(id) } }
                return ids
            }
            node.stop()
            #expect(!acknowledged.isEmpty, "some creations were acknowledged before the kill")
            let listed = try await Binaries.agentauth(["agents", "list", "--limit", "1000", "--json", "--database", url], in: directory)
            let stored = Set((listed.json["agents"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
            #expect(Set(acknowledged).isSubset(of: stored), "\(Set(acknowledged).subtracting(stored).count) acknowledged agents are missing")
        }
    }

    @Test(
        "PostgreSQL restarted mid-run: 503 with Retry-After and a failing /readyz while it is down, JWTs still verified at the API, and both nodes serve again by themselves"
    )
    func databaseRestart() async throws {
        let postgres = try await PostgresInstance()
        defer { postgres.destroy() }
        let url = postgres.url + "/postgres"
        try await withTemporaryDirectory { directory in
            let initialized = try await Binaries.agentauth(["init", "--json", "--database", url], in: directory)
            let adminKey = try #require(initialized.json["admin_key"] as? String)
            var bases: [String] = []
            var nodes: [RunningProcess] = []
            defer { for node in nodes { node.stop() } }
            for _ in 0..<2 {
                let port = try LoopbackPort.free()
                let node = try await RunningProcess("agentauth", ["serve", "--database", url, "--port", "\(port)"], in: directory)
                nodes.append(node)
                try await node.waitForOutput("AgentAuth listening")
                bases.append("http://127.0.0.1:\(port)")
                try await WalkthroughTests.waitUntilHealthy(bases[bases.count - 1])
            }
            let base = bases[0]
            let admin = [("X-API-Key", adminKey), ("Content-Type", "application/json")]
            let agent = try #require(
                try await HTTP.send(.POST, "\(base)/admin/agents", headers: admin, body: #"{"name":"before"}"#).json["id"] as? String
            )
            let client = try await HTTP.send(.POST, "\(base)/admin/agents/\(agent)/clients", headers: admin, body: #"{"scope":"conversations:read"}"#)
            let token = try await HTTP.clientCredentialsToken(
                base,
                clientID: try #require(client.json["client_id"] as? String),
                secret: try #require(client.json["client_secret"] as? String)
            )
            let example = try await ExampleAPIProcess.start(authServer: base, admin: admin, in: directory)
            let exampleAPI = example.process
            defer { exampleAPI.stop() }
            let api = example.base
            let bearer = [("Authorization", "Bearer \(token)")]
            #expect(try await HTTP.send(.GET, "\(api)/v1/conversations", headers: bearer).status == 200)

            await Task.detached { postgres.stop() }.value
            let down = try await HTTP.send(.POST, "\(base)/admin/agents", headers: admin, body: #"{"name":"during"}"#, timeout: 20)
            #expect(down.status == 503, "\(down.status) \(down.body)")
            #expect(down.headers.first(name: "Retry-After") != nil)
            #expect(try await HTTP.send(.GET, "\(base)/readyz", timeout: 20).status == 503)
            #expect(
                try await HTTP.send(.GET, "\(api)/v1/conversations", headers: bearer, timeout: 20).status == 200,
                "JWTs keep verifying from memory"
            )

            #expect(try await HTTP.send(.GET, "\(bases[1])/readyz", timeout: 20).status == 503)

            try await postgres.start()
            for node in bases {
                let recovered = try await Self.within(.seconds(20)) {
                    (try? await HTTP.send(.POST, "\(node)/admin/agents", headers: admin, body: #"{"name":"after"}"#, timeout: 5))?.status == 201
                }
                #expect(recovered != nil, "\(node) serves again without a restart")
                #expect(try await HTTP.send(.GET, "\(node)/readyz").status == 200)
            }
        }
    }
}

extension Data {
    init(base64URL text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self = Data(base64Encoded: base64) ?? Data()
    }
}
