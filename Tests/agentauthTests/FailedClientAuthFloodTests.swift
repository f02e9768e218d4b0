import AgentAuthTesting
import Foundation
import NIOHTTP1
import Testing

extension TimedProcessTests {
    /// SECURITY-CASES 49, sent as the outside review sent it: 12,000 `client_secret_post` requests to
    /// `agentauth serve`, each with its own random ~60 KB `client_id` and a wrong secret.
    @Suite("Failed client authentication flood", .serialized)
    struct FailedClientAuthFloodTests {
        static func residentMegabytes(_ pid: Int32) throws -> Double {
            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
                let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
            else { throw CLIFailure("no VmRSS in /proc/\(pid)/status") }
            return kilobytes / 1024
        }

        static func flood(_ base: String, requests: Int, concurrency: Int) async throws -> [Int: Int] {
            try await withThrowingTaskGroup(of: [Int: Int].self) { group in
                for worker in 0..<concurrency {
                    group.addTask {
                        var statuses: [Int: Int] = [:]
                        let filler = String(repeating: "x", count: 60_000)
                        for _ in stride(from: worker, to: requests, by: concurrency) {
                            // Distinct ids: a random head on a 60 KB body.
                            let id = UUID().uuidString + filler
                            let response = try await HTTP.send(
                                .POST,
                                "\(base)/oauth/token",
                                headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                body: "grant_type=client_credentials&client_id=\(id)&client_secret=wrong"
                            )
                            statuses[response.status, default: 0] += 1
                        }
                        return statuses
                    }
                }
                return try await group.reduce(into: [:]) { total, part in total.merge(part, uniquingKeysWith: +) }
            }
        }

        @Test("49: 12,000 failures with distinct 60 KB client_ids: RSS within 64 MB, failures aggregated into a few audit events")
        func flood() async throws {
            try await withTemporaryDirectory { directory in
                let server = try await AuthServerProcess.start(in: directory)
                let pid = server.process.process.processIdentifier
                _ = try await Self.flood(server.base, requests: 400, concurrency: 16)
                let before = try Self.residentMegabytes(pid)
                let statuses = try await Self.flood(server.base, requests: 12_000, concurrency: 16)
                let after = try Self.residentMegabytes(pid)
                #expect(Set(statuses.keys).isSubset(of: [401, 429]), "\(statuses)")
                #expect(after - before < 64, "RSS grew from \(before) MB to \(after) MB")
                let health = try await HTTP.send(.GET, "\(server.base)/healthz")
                #expect(health.status == 200, "the server keeps serving")

                server.process.stop()
                let audit = try await Binaries.agentauth(
                    ["audit", "list", "--type", "client_auth.failure", "--json", "--limit", "10000"],
                    in: directory
                )
                let events = try #require(audit.json["events"] as? [[String: Any]])
                let counted = events.compactMap { ($0["details"] as? [String: String])?["count"].flatMap(Int.init) }.reduce(0, +)
                #expect(counted == 12_400, "every failure is counted")
                #expect(events.count <= 10, "aggregated per minute, not per id: \(events.count) events")
                #expect(events.allSatisfy { $0["credential_id"] as? String == nil }, "no presented id is recorded")
            }
        }
    }
}
