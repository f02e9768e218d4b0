import AgentAuthCore
import AgentAuthSQLite
import AgentAuthTesting
import Foundation
import Testing

extension OperationsProcessTests {
    /// `audit export` (and `--delete`), `audit verify-export`, and `serve --audit-retention`, run as
    /// an operator runs them.
    @Suite("audit retention from the command line")
    struct AuditRetentionCLITests {
        static func jsonLines(_ text: String) -> [[String: Any]] {
            text.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        }

        static func events(_ database: [String], in directory: URL) async throws -> [[String: Any]] {
            let listed = try await Binaries.agentauth(["audit", "--json", "--limit", "10000"] + database, in: directory)
            return try #require(listed.json["events"] as? [[String: Any]], "\(listed.stdout)\(listed.stderr)")
        }

        @Test("export writes the anchor and older events as JSON lines; --delete removes exactly those; verify passes, and catches a moved anchor")
        func exportAndDelete() async throws {
            try await withTemporaryDirectory { directory in
                let path = directory.appendingPathComponent("audit.sqlite").path
                let database = ["--database", path]
                #expect(try await Binaries.agentauth(["init"] + database, in: directory).status == 0)
                for name in ["one", "two", "three"] {
                    #expect(try await Binaries.agentauth(["agents", "create", name] + database, in: directory).status == 0)
                }
                let stored = try await Self.events(database, in: directory)
                #expect(stored.count == 4, "the initialisation and three agents")
                try await Task.sleep(for: .milliseconds(20))

                let printed = try await Binaries.agentauth(["audit", "export", "--before", "0s"] + database, in: directory)
                #expect(printed.status == 0, "\(printed.stderr)")
                let lines = Self.jsonLines(printed.stdout)
                let header = try #require(lines.first)
                #expect(header["format"] as? String == "agentauth-audit-export/1")
                #expect(header["count"] as? Int == 4 && header["through_seq"] as? Int == 4)
                let anchor = try #require(header["anchor"] as? [String: Any])
                #expect(anchor["seq"] as? Int == 0 && anchor["hash"] as? String == AuditChain.genesis, "nothing removed yet: the genesis value")
                #expect(lines.count == 5, "the header and four events")
                #expect(lines.dropFirst().map { $0["seq"] as? Int } == [1, 2, 3, 4], "oldest first")
                #expect(lines[1]["previous_hash"] as? String == AuditChain.genesis && lines[1]["type"] as? String == "store.initialized")
                #expect(lines.dropFirst().allSatisfy { $0["hash"] is String && $0["time_ms"] is Int && $0["details"] is [String: Any] })
                #expect(try await Self.events(database, in: directory).count == 4, "a plain export removes nothing")

                let refused = try await Binaries.agentauth(["audit", "export", "--before", "0s", "--delete"] + database, in: directory)
                #expect(refused.status != 0 && refused.stderr.contains("--output"), "no deleting what only went to a terminal")

                let archive = directory.appendingPathComponent("first.jsonl").path
                let deleted = try await Binaries.agentauth(
                    ["audit", "export", "--before", "0s", "--output", archive, "--delete"] + database,
                    in: directory
                )
                #expect(deleted.status == 0, "\(deleted.stderr)")
                #expect(deleted.stderr.contains("exported 4 events") && deleted.stderr.contains("removed 4"), "\(deleted.stderr)")
                let archived = Self.jsonLines(try String(contentsOfFile: archive, encoding: .utf8))
                #expect(archived.count == 5 && archived.last?["hash"] as? String == lines.last?["hash"] as? String, "the same events as exported")
                let kept = try await Self.events(database, in: directory)
                #expect(kept.map { $0["type"] as? String } == ["audit.pruned"], "only the record of the removal stays")
                let pruned = try #require(kept.first?["details"] as? [String: String])
                #expect(pruned["count"] == "4" && pruned["anchor_seq"] == "4" && pruned["anchor_hash"] == archived.last?["hash"] as? String)
                #expect(pruned["via"] == "cli")

                let verified = try await Binaries.agentauth(["audit", "verify"] + database, in: directory)
                #expect(verified.status == 0, "\(verified.stderr)")
                #expect(verified.stdout.contains("1 events since anchor 4:"), "\(verified.stdout)")
                let lastExported = try #require(archived.last?["hash"] as? String)
                let pinned = try await Binaries.agentauth(["audit", "verify", "--anchor", "4:\(lastExported)"] + database, in: directory)
                #expect(pinned.status == 0 && pinned.stderr.contains("before the chain's start"), "an anchor a recorded removal took")
                let wrong = try await Binaries.agentauth(["audit", "verify", "--anchor", "4:\(AuditChain.genesis)"] + database, in: directory)
                #expect(wrong.status == 1, "an anchor at the cut that is not the cut's")
                let checked = try await Binaries.agentauth(["audit", "verify-export", archive] + database, in: directory)
                #expect(checked.status == 0 && checked.stdout.contains("export intact: 4 events"), "\(checked.stdout)\(checked.stderr)")
                let again = try await Binaries.agentauth(["audit", "export", "--before", "0s", "--output", archive] + database, in: directory)
                #expect(again.status != 0 && again.stderr.contains("exists"), "an archive is never overwritten")

                // A second round continues from the first one's anchor.
                #expect(try await Binaries.agentauth(["agents", "create", "four"] + database, in: directory).status == 0)
                try await Task.sleep(for: .milliseconds(20))
                let second = directory.appendingPathComponent("second.jsonl").path
                let round = try await Binaries.agentauth(
                    ["audit", "export", "--before", "0s", "--output", second, "--delete"] + database,
                    in: directory
                )
                #expect(round.status == 0, "\(round.stderr)")
                let secondHeader = try #require(Self.jsonLines(try String(contentsOfFile: second, encoding: .utf8)).first)
                #expect((secondHeader["anchor"] as? [String: Any])?["seq"] as? Int == 4 && secondHeader["count"] as? Int == 2)
                #expect(try await Binaries.agentauth(["audit", "verify"] + database, in: directory).status == 0)
                #expect(try await Binaries.agentauth(["audit", "verify-export", second] + database, in: directory).status == 0)

                // An edited export, and an anchor moved in the database, are caught.
                let original = try String(contentsOfFile: archive, encoding: .utf8)
                let forged = original.replacingOccurrences(of: "\"name\":\"two\"", with: "\"name\":\"TWO\"")
                #expect(forged != original)
                try forged.write(toFile: archive, atomically: true, encoding: .utf8)
                let edited = try await Binaries.agentauth(["audit", "verify-export", archive] + database, in: directory)
                #expect(edited.status == 1 && edited.stderr.contains("export tampered"), "\(edited.stdout)\(edited.stderr)")
                let store = try SQLiteStore(path: path)
                try await store.unsafeExecute("UPDATE settings SET value = '5:' || substr(value, 3) WHERE name = 'audit_anchor'")
                let moved = try await Binaries.agentauth(["audit", "verify"] + database, in: directory)
                #expect(moved.status == 1 && moved.stderr.contains("audit log tampered"), "\(moved.stdout)\(moved.stderr)")
            }
        }

        @Test("serve --audit-retention 1 removes the events older than a day as it starts; what stays verifies")
        func retentionAtStart() async throws {
            try await withTemporaryDirectory { directory in
                let path = directory.appendingPathComponent("agentauth.sqlite").path
                let (masterKey, base64) = MasterKey.generate()
                try Data(base64.utf8).write(to: directory.appendingPathComponent("agentauth.key"))
                let old = Date().addingTimeInterval(-3 * 86_400)
                do {
                    let store = try SQLiteStore(path: path)
                    _ = try #require(try await AgentAdministration(store: store, now: { old }).initialize(masterKey: masterKey))
                    let events = (1...5).map { AuditEvent(time: old.addingTimeInterval(Double($0)), type: .tokenIssued, details: ["n": "\($0)"]) }
                    try await store.appendAudit(events, key: AuditChainKey(masterKey: masterKey))
                }
                let database = ["--database", path]
                #expect(try await Self.events(database, in: directory).count == 6)

                let invalid = try await Binaries.agentauth(["serve", "--audit-retention", "0"] + database, in: directory)
                #expect(invalid.status != 0 && invalid.stderr.contains("--audit-retention"), "\(invalid.stderr)")

                let port = try LoopbackPort.free()
                let server = try await RunningProcess(
                    "agentauth",
                    ["serve", "--port", "\(port)", "--audit-retention", "1"] + database,
                    in: directory
                )
                defer { server.stop() }
                try await server.waitForOutput("AgentAuth listening")
                let deadline = ContinuousClock.now + .seconds(30)
                var kept = try await Self.events(database, in: directory)
                while !kept.contains(where: { $0["type"] as? String == "audit.pruned" }) {
                    guard ContinuousClock.now < deadline else { throw CLIFailure("nothing was removed:\n\(server.output)") }
                    try await Task.sleep(for: .milliseconds(100))
                    kept = try await Self.events(database, in: directory)
                }
                #expect(!kept.contains { ($0["seq"] as? Int ?? 0) <= 6 }, "every event older than a day removed: \(kept)")
                let pruned = try #require(kept.first { $0["type"] as? String == "audit.pruned" }?["details"] as? [String: String])
                #expect(pruned["count"] == "6" && pruned["anchor_seq"] == "6" && pruned["via"] == "retention" && pruned["retention_days"] == "1")
                let verified = try await Binaries.agentauth(["audit", "verify"] + database, in: directory)
                #expect(verified.status == 0, "\(verified.stderr)")
                #expect(verified.stdout.contains("since anchor 6:"), "\(verified.stdout)")
            }
        }
    }
}
