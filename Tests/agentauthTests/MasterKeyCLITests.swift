import AgentAuthTesting
import Foundation
import Testing

/// SECURITY-CASES 51: the master key is resolved the same way by every command, checked before
/// anything is written, and every change is stored with its audit event.
@Suite("agentauth master key")
struct MasterKeyCLITests {
    /// A database in `data/` and its master key file in `secrets/`: apart, as an operator keeps them.
    struct Layout {
        let directory: URL
        var database: String { directory.appendingPathComponent("data/agentauth.sqlite").path }
        var keyFile: String { directory.appendingPathComponent("secrets/master.key").path }

        init(_ directory: URL) throws {
            self.directory = directory
            for folder in ["data", "secrets"] {
                try FileManager.default.createDirectory(at: directory.appendingPathComponent(folder), withIntermediateDirectories: true)
            }
        }

        func run(_ arguments: [String], keyFile: String? = nil, environment: [String: String] = [:]) async throws -> Binaries.Result {
            let key = (keyFile ?? self.keyFile).isEmpty ? [] : ["--master-key-file", keyFile ?? self.keyFile]
            return try await Binaries.agentauth(arguments + ["--database", database] + key, in: directory, environment: environment)
        }

        func agentCount() async throws -> Int {
            let list = try await run(["agents", "list", "--json"], keyFile: "")
            return try #require(list.json["agents"] as? [[String: Any]]).count
        }

        func auditCount() async throws -> Int {
            let list = try await run(["audit", "list", "--json", "--limit", "10000"], keyFile: "")
            return try #require(list.json["events"] as? [[String: Any]]).count
        }
    }

    @Test("51: --master-key-file works for init, serve and every admin command, each change audited and the chain intact")
    func masterKeyFile() async throws {
        try await withTemporaryDirectory { directory in
            let layout = try Layout(directory)
            let initialised = try await layout.run(["init", "--json"])
            #expect(initialised.status == 0, "\(initialised.stderr)")
            #expect((initialised.json["admin_key"] as? String)?.hasPrefix("sk-agent-") == true, "the admin key is printed")
            let attributes = try FileManager.default.attributesOfItem(atPath: layout.keyFile)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("data/agentauth.key").path))

            let agent = try #require(try await layout.run(["agents", "create", "worker", "--json"]).json["id"] as? String)
            let key = try await layout.run(["keys", "create", agent, "--scope", "a", "--json"])
            #expect(key.status == 0, "\(key.stderr)")
            let keyID = try #require(key.json["id"] as? String)
            let rolled = try await layout.run(["keys", "roll", keyID, "--grace-seconds", "60", "--json"])
            #expect(rolled.status == 0, "\(rolled.stderr)")
            #expect(try await layout.run(["keys", "revoke", try #require(rolled.json["id"] as? String)]).status == 0)
            let client = try await layout.run(["clients", "create", agent, "--scope", "a", "--json"])
            #expect(client.status == 0, "\(client.stderr)")
            let clientID = try #require(client.json["client_id"] as? String)
            #expect(try await layout.run(["clients", "rotate-secret", clientID]).status == 0)
            #expect(try await layout.run(["agents", "delegation", agent, "--nobody"]).status == 0)
            #expect(try await layout.run(["agents", "disable", agent]).status == 0)
            #expect(try await layout.run(["agents", "enable", agent]).status == 0)
            #expect(try await layout.run(["signing-keys", "rotate"]).status == 0)

            let events = try #require(
                try await layout.run(["audit", "list", "--json", "--limit", "100"], keyFile: "").json["events"] as? [[String: Any]]
            )
            let types = events.compactMap { $0["type"] as? String }.reversed()
            #expect(
                Array(types) == [
                    "store.initialized", "agent.created", "key.created", "key.rolled", "key.revoked", "client.created",
                    "client.secret_rotated", "agent.delegation_policy", "agent.disabled", "agent.enabled", "signing_key.rotated",
                ],
                "one event per change, none twice"
            )
            let verified = try await layout.run(["audit", "verify"])
            #expect(verified.status == 0, "\(verified.stderr)")
            #expect(verified.stdout.contains("audit log intact: 11 events"))

            let port = try LoopbackPort.free()
            let server = try await RunningProcess(
                "agentauth",
                ["serve", "--database", layout.database, "--master-key-file", layout.keyFile, "--port", "\(port)"],
                in: directory
            )
            defer { server.stop() }
            try await server.waitForOutput("AgentAuth listening")
        }
    }

    @Test("51: a first serve with --master-key-file initialises the database with that key")
    func firstServe() async throws {
        try await withTemporaryDirectory { directory in
            let layout = try Layout(directory)
            let port = try LoopbackPort.free()
            let server = try await RunningProcess(
                "agentauth",
                ["serve", "--database", layout.database, "--master-key-file", layout.keyFile, "--port", "\(port)"],
                in: directory
            )
            try await server.waitForOutput("AgentAuth listening")
            #expect(server.output.contains("Admin API key"))
            server.stop()
            #expect(FileManager.default.fileExists(atPath: layout.keyFile))
            #expect(try await layout.run(["audit", "verify"]).status == 0)
        }
    }

    @Test("51: a missing or wrong master key changes nothing, exits non-zero, and the chain stays verifiable")
    func missingOrWrongKey() async throws {
        try await withTemporaryDirectory { directory in
            let layout = try Layout(directory)
            #expect(try await layout.run(["init", "--json"]).status == 0)
            let agent = try #require(try await layout.run(["agents", "create", "worker", "--json"]).json["id"] as? String)
            let agents = try await layout.agentCount()
            let events = try await layout.auditCount()

            let otherKey = directory.appendingPathComponent("secrets/other.key").path
            #expect(try await layout.run(["init"], keyFile: otherKey + ".unused").status == 1, "already initialised")
            let otherDatabase = directory.appendingPathComponent("other.sqlite").path
            #expect(try await Binaries.agentauth(["init", "--database", otherDatabase, "--master-key-file", otherKey], in: directory).status == 0)

            let attempts: [(String, [String], String?, [String: String])] = [
                ("missing key file", ["agents", "create", "intruder"], directory.appendingPathComponent("nowhere.key").path, [:]),
                ("default key path beside the database", ["agents", "create", "intruder"], "", [:]),
                ("wrong key file", ["agents", "create", "intruder"], otherKey, [:]),
                ("wrong key file", ["keys", "create", agent, "--scope", "a"], otherKey, [:]),
                ("wrong key file", ["agents", "disable", agent], otherKey, [:]),
                ("wrong key file", ["signing-keys", "rotate"], otherKey, [:]),
                ("wrong AGENTAUTH_MASTER_KEY", ["agents", "create", "intruder"], nil, ["AGENTAUTH_MASTER_KEY": try Self.freshKey()]),
            ]
            for (what, arguments, keyFile, environment) in attempts {
                let result = try await layout.run(arguments, keyFile: keyFile, environment: environment)
                #expect(result.status != 0, "\(what): \(arguments.joined(separator: " "))")
                #expect(result.stderr.contains("master key"), "\(what): one line naming the problem, got \(result.stderr)")
            }
            #expect(try await layout.agentCount() == agents, "nothing was written")
            #expect(try await layout.auditCount() == events, "no audit event without its change, none under a wrong key")
            let shown = try await layout.run(["agents", "show", agent, "--json"], keyFile: "")
            #expect(shown.json["status"] as? String == "active", "the disable did not happen")
            let verified = try await layout.run(["audit", "verify"])
            #expect(verified.status == 0, "\(verified.stderr)")

            let port = try LoopbackPort.free()
            let server = try await Binaries.agentauth(
                ["serve", "--database", layout.database, "--master-key-file", otherKey, "--port", "\(port)"],
                in: directory
            )
            #expect(server.status != 0)
            #expect(server.stderr.contains("does not belong to this database"), "\(server.stderr)")
        }
    }

    static func freshKey() throws -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in bytes.indices { bytes[index] = UInt8.random(in: .min ... .max) }
        return Data(bytes).base64EncodedString()
    }
}
