import Foundation
import Testing

@Suite("agentauth CLI: master key, clients, signing keys")
struct OAuthCLITests {
    @Test("init writes a 0600 master key file beside the database, or uses AGENTAUTH_MASTER_KEY")
    func masterKey() async throws {
        try await withTemporaryDirectory { directory in
            #expect(
                try await Binaries.agentauth(["init", "--json", "--database", "data/a.sqlite"], in: directory).status != 0,
                "a missing folder is an error"
            )
            try FileManager.default.createDirectory(at: directory.appendingPathComponent("data"), withIntermediateDirectories: true)
            let first = try await Binaries.agentauth(["init", "--json", "--database", "data/a.sqlite"], in: directory)
            #expect(first.status == 0, "\(first.stderr)")
            let keyFile = directory.appendingPathComponent("data/agentauth.key").path
            let attributes = try FileManager.default.attributesOfItem(atPath: keyFile)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            let contents = try String(contentsOfFile: keyFile, encoding: .utf8)
            #expect(Data(base64Encoded: contents.trimmingCharacters(in: .whitespacesAndNewlines))?.count == 32)

            let envKey = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            let second = try await Binaries.agentauth(
                ["init", "--json", "--database", "b.sqlite"],
                in: directory,
                environment: ["AGENTAUTH_MASTER_KEY": envKey]
            )
            #expect(second.status == 0, "\(second.stderr)")
            #expect(
                !FileManager.default.fileExists(atPath: directory.appendingPathComponent("agentauth.key").path),
                "no file when the env var is set"
            )
            let rotated = try await Binaries.agentauth(
                ["signing-keys", "rotate", "--database", "b.sqlite"],
                in: directory,
                environment: ["AGENTAUTH_MASTER_KEY": envKey]
            )
            #expect(rotated.status == 0, "\(rotated.stderr)")
            let missing = try await Binaries.agentauth(["signing-keys", "rotate", "--database", "b.sqlite"], in: directory)
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("master key"))
            let wrong = try await Binaries.agentauth(
                ["signing-keys", "rotate", "--database", "b.sqlite"],
                in: directory,
                environment: ["AGENTAUTH_MASTER_KEY": Data(count: 32).base64EncodedString()]
            )
            #expect(wrong.status == 1)
            #expect(wrong.stderr.contains("master key"))
            let invalid = try await Binaries.agentauth(
                ["signing-keys", "rotate", "--database", "b.sqlite"],
                in: directory,
                environment: ["AGENTAUTH_MASTER_KEY": "short"]
            )
            #expect(invalid.stderr.contains("32 bytes"))
        }
    }

    @Test("clients: create, list, show, rotate-secret; secrets printed once")
    func clients() async throws {
        try await withTemporaryDirectory { directory in
            #expect(try await Binaries.agentauth(["init", "--json"], in: directory).status == 0)
            let agent = try #require(try await Binaries.agentauth(["agents", "create", "billing", "--json"], in: directory).json["id"] as? String)
            let created = try await Binaries.agentauth(
                [
                    "clients", "create", agent, "--scope", "billing:read billing:write", "--audience", "https://billing.example", "--token-ttl",
                    "600", "--json",
                ],
                in: directory
            )
            #expect(created.status == 0, "\(created.stderr)")
            let clientID = try #require(created.json["client_id"] as? String)
            let secret = try #require(created.json["client_secret"] as? String)
            #expect(secret.hasPrefix("cs-agent-"))
            #expect(created.json["scope"] as? String == "billing:read billing:write")
            #expect(created.json["audience"] as? [String] == ["https://billing.example"])
            #expect(created.json["token_ttl"] as? Int == 600)
            #expect(created.json["token_endpoint_auth_method"] as? String == "client_secret_basic")

            let listed = try await Binaries.agentauth(["clients", "list", agent, "--json"], in: directory)
            #expect(listed.stdout.contains(clientID) && !listed.stdout.contains(secret))
            let table = try await Binaries.agentauth(["clients", "list", agent], in: directory)
            #expect(table.stdout.hasPrefix("CLIENT ID") && table.stdout.contains(clientID))
            let shown = try await Binaries.agentauth(["clients", "show", clientID, "--json"], in: directory)
            #expect(shown.json["client_id"] as? String == clientID && shown.json["client_secret"] == nil)

            let rotated = try await Binaries.agentauth(["clients", "rotate-secret", clientID, "--grace-seconds", "60", "--json"], in: directory)
            let newSecret = try #require(rotated.json["client_secret"] as? String)
            #expect(newSecret != secret)
            #expect(rotated.json["previous_secret_expires_at"] is String)
            let rotatedTable = try await Binaries.agentauth(["clients", "rotate-secret", clientID], in: directory)
            #expect(rotatedTable.stdout.contains("shown once"))

            let jwks = directory.appendingPathComponent("client-jwks.json")
            try #"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#.write(
                to: jwks,
                atomically: true,
                encoding: .utf8
            )
            let jwtClient = try await Binaries.agentauth(
                ["clients", "create", agent, "--scope", "a", "--auth-method", "private_key_jwt", "--jwks-file", jwks.path, "--json"],
                in: directory
            )
            #expect(jwtClient.status == 0, "\(jwtClient.stderr)")
            #expect(jwtClient.json["client_secret"] == nil)
            let noSecret = try await Binaries.agentauth(
                ["clients", "rotate-secret", try #require(jwtClient.json["client_id"] as? String)],
                in: directory
            )
            #expect(noSecret.status == 1)
            let badScope = try await Binaries.agentauth(["clients", "create", agent], in: directory)
            #expect(badScope.status == 1 && badScope.stderr.contains("scope"))
        }
    }

    @Test("signing-keys: list shows the first key; rotate adds a pending one that takes over after the activation delay")
    func signingKeys() async throws {
        try await withTemporaryDirectory { directory in
            #expect(try await Binaries.agentauth(["init", "--json", "--signing-algorithm", "ES256"], in: directory).status == 0)
            let first = try await Binaries.agentauth(["signing-keys", "list", "--json"], in: directory)
            let keys = try #require(first.json["keys"] as? [[String: Any]])
            #expect(keys.count == 1)
            #expect(keys.first?["algorithm"] as? String == "ES256")
            #expect(keys.first?["status"] as? String == "active")
            let oldKid = try #require(keys.first?["kid"] as? String)
            let rotated = try await Binaries.agentauth(["signing-keys", "rotate", "--algorithm", "EdDSA", "--json"], in: directory)
            #expect(rotated.status == 0, "\(rotated.stderr)")
            let newKid = try #require(rotated.json["kid"] as? String)
            #expect(newKid != oldKid)
            #expect(rotated.json["status"] as? String == "pending", "published, signing after the default 5 s delay")
            #expect(rotated.json["activates_at"] is String)
            let after = try await Binaries.agentauth(["signing-keys", "list", "--json"], in: directory)
            let listed = try #require(after.json["keys"] as? [[String: Any]])
            #expect(listed.map { $0["kid"] as? String } == [newKid, oldKid], "newest first")
            #expect(listed.map { $0["status"] as? String } == ["pending", "active"], "the old key signs until the new one takes over")

            let immediate = try await Binaries.agentauth(["signing-keys", "rotate", "--activation-delay", "0", "--json"], in: directory)
            #expect(immediate.json["status"] as? String == "active")
            let table = try await Binaries.agentauth(["signing-keys", "list"], in: directory)
            #expect(table.stdout.contains(newKid) && table.stdout.contains(oldKid))
            #expect(table.stdout.components(separatedBy: "retired").count == 3, "both earlier keys are retired:\n\(table.stdout)")
            #expect(!table.stdout.contains("\"d\""), "no private material is ever printed")
            let tooLong = try await Binaries.agentauth(["signing-keys", "rotate", "--activation-delay", "301"], in: directory)
            #expect(tooLong.status != 0)
        }
    }

    @Test("agents delegation: any agent by default, a list, nobody, anyone again")
    func delegationPolicy() async throws {
        try await withTemporaryDirectory { directory in
            #expect(try await Binaries.agentauth(["init", "--json"], in: directory).status == 0)
            let owner = try #require(try await Binaries.agentauth(["agents", "create", "owner", "--json"], in: directory).json["id"] as? String)
            let helper = try #require(try await Binaries.agentauth(["agents", "create", "helper", "--json"], in: directory).json["id"] as? String)
            let shown = try await Binaries.agentauth(["agents", "delegation", owner], in: directory)
            #expect(shown.stdout.contains("Any agent may act"))
            let set = try await Binaries.agentauth(["agents", "delegation", owner, "--may-act", helper, "--json"], in: directory)
            #expect(set.json["may_act"] as? [String] == [helper])
            let nobody = try await Binaries.agentauth(["agents", "delegation", owner, "--nobody", "--json"], in: directory)
            #expect(nobody.json["may_act"] as? [String] == [])
            let anyone = try await Binaries.agentauth(["agents", "delegation", owner, "--anyone", "--json"], in: directory)
            #expect(anyone.json["may_act"] is NSNull)
            let both = try await Binaries.agentauth(["agents", "delegation", owner, "--anyone", "--nobody"], in: directory)
            #expect(both.status != 0)
            let unknown = try await Binaries.agentauth(["agents", "delegation", owner, "--may-act", "agt_00000000000000000000"], in: directory)
            #expect(unknown.status == 1 && unknown.stderr.contains("unknown agent"))
            let audited = try await Binaries.agentauth(["audit", "--type", "agent.delegation_policy", "--json"], in: directory)
            #expect((audited.json["events"] as? [Any])?.count == 3)
        }
    }
}
