import AgentAuthCore
import AgentAuthSQLite
import AgentAuthTesting
import Foundation
import Testing

@Suite("SQLite online backup")
struct SQLiteBackupTests {
    @Test("a backup taken during writes is one consistent snapshot: every write before it, an intact chain, its own file")
    func backupDuringWrites() async throws {
        try await SQLiteStoreTests.withDirectory { directory in
            let path = directory.appendingPathComponent("agentauth.sqlite").path
            let store = try SQLiteStore(path: path)
            let administration = AgentAdministration(store: store)
            var before: [String] = []
            for index in 0..<30 { before.append(try await administration.createAgent(name: "before \(index)", by: .test).id) }
            let writer = Task {
                for index in 0..<200 { _ = try? await administration.createAgent(name: "during \(index)", by: .test) }
            }
            let copyPath = directory.appendingPathComponent("copy.sqlite").path
            try store.backup(to: copyPath)
            await writer.value

            let copy = try SQLiteStore(path: copyPath)
            let agents = try await copy.agents(limit: 1000, offset: 0)
            #expect(Set(before).isSubset(of: Set(agents.map(\.id))))
            #expect(agents.count <= 230)
            let events = try await copy.auditEvents(AuditFilter(limit: 10_000))
            #expect(
                events.filter { $0.type == .agentCreated }.count == agents.count,
                "each agent in the copy has its event, and no event is without its agent"
            )
            #expect(try await copy.journalMode() == "wal")
            #expect(throws: StoreError.self, "an existing file is never overwritten") { try store.backup(to: copyPath) }
        }
    }
}
