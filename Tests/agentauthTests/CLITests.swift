import Foundation
import Testing

@Suite("agentauth CLI")
struct CLITests {
    @Test("init prints the admin key once; a second init changes nothing")
    func initOnce() async throws {
        try await withTemporaryDirectory { directory in
            let first = try await Binaries.agentauth(["init", "--json"], in: directory)
            #expect(first.status == 0, "\(first.stderr)")
            let agentID = try #require(first.json["agent_id"] as? String)
            let adminKey = try #require(first.json["admin_key"] as? String)
            #expect(agentID.hasPrefix("agt_") && adminKey.hasPrefix("sk-agent-") && adminKey.count == 58)
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("agentauth.sqlite").path))

            let again = try await Binaries.agentauth(["init"], in: directory)
            #expect(again.status == 1)
            #expect(again.stderr.contains("already initialised"))
            #expect(!again.stdout.contains("sk-agent-"))
            let ifNeeded = try await Binaries.agentauth(["init", "--if-needed", "--json"], in: directory)
            #expect(ifNeeded.status == 0)
            #expect(ifNeeded.json["already_initialized"] as? Bool == true)

            let table = try await Binaries.agentauth(["init", "--database", "other.sqlite"], in: directory)
            #expect(table.status == 0)
            #expect(table.stdout.contains("Admin API key"))
            #expect(table.stdout.contains("sk-agent-"))
        }
    }

    @Test("agents and keys end to end on a temp database")
    func adminCommands() async throws {
        try await withTemporaryDirectory { directory in
            let database = ["--database", directory.appendingPathComponent("cli.sqlite").path]
            #expect(try await Binaries.agentauth(["init", "--json"] + database, in: directory).status == 0)

            let created = try await Binaries.agentauth(["agents", "create", "research agent", "--json"] + database, in: directory)
            #expect(created.status == 0, "\(created.stderr)")
            let agentID = try #require(created.json["id"] as? String)
            #expect(created.json["status"] as? String == "active")
            let named = try await Binaries.agentauth(["agents", "create", "--name", "billing", "--json"] + database, in: directory)
            #expect(named.json["name"] as? String == "billing")

            let list = try await Binaries.agentauth(["agents", "list", "--json"] + database, in: directory)
            #expect((list.json["agents"] as? [[String: Any]])?.count == 3)
            let table = try await Binaries.agentauth(["agents", "list"] + database, in: directory)
            #expect(table.stdout.hasPrefix("ID"))
            #expect(table.stdout.contains("research agent"))

            let key = try await Binaries.agentauth(
                ["keys", "create", agentID, "--scope", "conversations:read", "--scope", "billing:read introspect", "--expires-in", "3600", "--json"]
                    + database,
                in: directory
            )
            #expect(key.status == 0, "\(key.stderr)")
            let plaintext = try #require(key.json["key"] as? String)
            let keyID = try #require(key.json["id"] as? String)
            #expect(key.json["scopes"] as? [String] == ["billing:read", "conversations:read", "introspect"])

            let keys = try await Binaries.agentauth(["keys", "list", agentID, "--json"] + database, in: directory)
            #expect(!keys.stdout.contains(plaintext), "listing never shows the key")
            #expect(keys.stdout.contains(keyID))
            let keyTable = try await Binaries.agentauth(["keys", "list", agentID] + database, in: directory)
            #expect(keyTable.stdout.contains(String(plaintext.prefix(13)) + "…"))
            #expect(!keyTable.stdout.contains(plaintext))

            let rolled = try await Binaries.agentauth(["keys", "roll", keyID, "--grace-seconds", "60", "--json"] + database, in: directory)
            #expect(rolled.status == 0, "\(rolled.stderr)")
            #expect(rolled.json["replaces"] as? String == keyID)
            let newID = try #require(rolled.json["id"] as? String)
            let rolledTable = try await Binaries.agentauth(["keys", "roll", newID] + database, in: directory)
            #expect(rolledTable.stdout.contains("shown once"))

            let revoked = try await Binaries.agentauth(["keys", "revoke", keyID, "--json"] + database, in: directory)
            #expect(revoked.json["status"] as? String == "revoked")

            let disabled = try await Binaries.agentauth(["agents", "disable", agentID, "--json"] + database, in: directory)
            #expect(disabled.json["status"] as? String == "disabled")
            let enabled = try await Binaries.agentauth(["agents", "enable", agentID, "--json"] + database, in: directory)
            #expect(enabled.json["status"] as? String == "active")
            let shown = try await Binaries.agentauth(["agents", "show", agentID] + database, in: directory)
            #expect(shown.stdout.contains(agentID) && shown.stdout.contains("active"))
        }
    }

    @Test("errors are clear messages with a non-zero exit, never a crash")
    func errors() async throws {
        try await withTemporaryDirectory { directory in
            let missing = try await Binaries.agentauth(["agents", "list"], in: directory)
            #expect(missing.status != 0)
            #expect(missing.stderr.contains("no AgentAuth database"))
            #expect(
                !FileManager.default.fileExists(atPath: directory.appendingPathComponent("agentauth.sqlite").path),
                "a mistyped path creates nothing"
            )

            #expect(try await Binaries.agentauth(["init", "--json"], in: directory).status == 0)
            let unknown = try await Binaries.agentauth(["agents", "show", "agt_00000000000000000000"], in: directory)
            #expect(unknown.status == 1)
            #expect(unknown.stderr.contains("no such agent"))
            let agent = try #require(try await Binaries.agentauth(["agents", "create", "x", "--json"], in: directory).json["id"] as? String)
            let badScope = try await Binaries.agentauth(["keys", "create", agent, "--scope", "bad\"scope"], in: directory)
            #expect(badScope.status == 1)
            #expect(badScope.stderr.contains("scopes"))
            let noScope = try await Binaries.agentauth(["keys", "create", agent], in: directory)
            #expect(noScope.status == 1)
            let badTier = try await Binaries.agentauth(["keys", "create", agent, "--scope", "a", "--rate-limit", "warp"], in: directory)
            #expect(badTier.stderr.contains("rate_limit"))
        }
    }

    @Test(
        "serve refuses a port outside 1–65535 and an issuer that is not an absolute http(s) URL, before starting",
        arguments: [
            (["--port", "70000"], "--port must be between 1 and 65535"),
            (["--port", "0"], "--port must be between 1 and 65535"),
            (["--issuer", "auth.example.com"], "--issuer must be an absolute http or https URL"),
            (["--issuer", "ftp://auth.example.com"], "--issuer must be an absolute http or https URL"),
            (["--issuer", "https://auth.example.com/?tenant=1"], "--issuer must be an absolute http or https URL"),
            (["--issuer", "https://auth.example.com/#x"], "--issuer must be an absolute http or https URL"),
        ]
    )
    func serveRefusesBadAddresses(_ arguments: [String], _ message: String) async throws {
        try await withTemporaryDirectory { directory in
            let refused = try await Binaries.agentauth(["serve"] + arguments, in: directory)
            #expect(refused.status != 0)
            #expect(refused.stderr.contains(message), "\(refused.stderr)")
            #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("agentauth.sqlite").path), "nothing was created")
        }
    }
}
