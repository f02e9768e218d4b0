import AgentAuthTesting
import Foundation
import NIOHTTP1
import Testing

extension OperationsProcessTests {
    @Suite("agentauth backup")
    struct BackupCLITests {
        @Test("a backup taken while serve writes is a complete database of its own, never overwrites a file, and refuses PostgreSQL")
        func onlineBackup() async throws {
            try await withTemporaryDirectory { directory in
                let server = try await AuthServerProcess.start(in: directory)
                defer { server.process.stop() }
                var created: [String] = []
                for index in 0..<20 {
                    let response = try await HTTP.send(
                        .POST,
                        server.base + "/admin/agents",
                        headers: server.admin,
                        body: #"{"name":"agent \#(index)"}"#
                    )
                    #expect(response.status == 201)
                    created.append(try #require(response.json["id"] as? String))
                }
                // Writes go on while the copy is taken.
                let writer = Task {
                    for index in 0..<50 {
                        _ = try? await HTTP.send(
                            .POST,
                            server.base + "/admin/agents",
                            headers: server.admin,
                            body: #"{"name":"meanwhile \#(index)"}"#
                        )
                    }
                }
                let backup = try await Binaries.agentauth(["backup", "--output", "copy.sqlite"], in: directory)
                await writer.value
                #expect(backup.status == 0, "\(backup.stderr)")
                #expect(backup.stdout.contains("master key"), "the output reminds to keep the key with it: \(backup.stdout)")
                let copy = directory.appendingPathComponent("copy.sqlite").path
                let mode = try FileManager.default.attributesOfItem(atPath: copy)[.posixPermissions] as? Int
                #expect(mode == 0o600)

                let listed = try await Binaries.agentauth(["agents", "list", "--json", "--database", "copy.sqlite"], in: directory)
                #expect(listed.status == 0, "\(listed.stderr)")
                let ids = Set(((listed.json["agents"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String })
                #expect(Set(created).isSubset(of: ids), "every agent acknowledged before the backup is in it")
                let verified = try await Binaries.agentauth(["audit", "verify", "--database", "copy.sqlite"], in: directory)
                #expect(verified.status == 0, "the copy's audit chain verifies: \(verified.stdout) \(verified.stderr)")

                let before = try Data(contentsOf: URL(fileURLWithPath: copy))
                let again = try await Binaries.agentauth(["backup", "--output", "copy.sqlite"], in: directory)
                #expect(again.status != 0 && again.stderr.contains("already exists"), "\(again.stderr)")
                #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == before, "the existing file is untouched")

                let postgres = try await Binaries.agentauth(
                    ["backup", "--output", "pg.sql", "--database", "postgres://u:p@127.0.0.1:1/db"],
                    in: directory
                )
                #expect(postgres.status != 0 && postgres.stderr.contains("pg_dump"), "\(postgres.stderr)")
            }
        }
    }
}
