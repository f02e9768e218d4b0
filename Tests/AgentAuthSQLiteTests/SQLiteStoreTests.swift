import AgentAuthCore
import AgentAuthSQLite
import AgentAuthStoreConformance
import Foundation
import Testing

@Suite("SQLite store")
struct SQLiteStoreTests {
    static func withDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agentauth-sqlite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try await body(directory)
    }

    @Test("store conformance", arguments: StoreConformance.cases)
    func conformance(_ conformanceCase: StoreConformanceCase) async throws {
        try await Self.withDirectory { directory in
            let store = try SQLiteStore(path: directory.appendingPathComponent("conformance.sqlite").path)
            try await conformanceCase.run(on: store)
        }
    }

    @Test("58: a new database and its WAL and shared-memory files are readable by their owner only (0600)")
    func filePermissions() async throws {
        try await Self.withDirectory { directory in
            let path = directory.appendingPathComponent("agentauth.sqlite").path
            let store = try SQLiteStore(path: path)
            _ = try await AgentAdministration(store: store).createAgent(name: "written", by: .test)
            for file in [path, path + "-wal", path + "-shm"] {
                let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
                #expect(mode == 0o600, "\(file): \(mode.map { String($0, radix: 8) } ?? "missing")")
            }
        }
    }

    @Test("audit verify catches a log whose start, or all of it, was deleted")
    func deletedChainStart() async throws {
        try await Self.withDirectory { directory in
            let store = try SQLiteStore(path: directory.appendingPathComponent("agentauth.sqlite").path)
            let masterKey = MasterKey.generate().key
            let key = AuditChainKey(masterKey: masterKey)
            _ = try #require(try await AgentAdministration(store: store).initialize(masterKey: masterKey))
            let actor = AuditActor.commandLine(chainKey: key)
            _ = try await AgentAdministration(store: store).createAgent(name: "one", by: actor)
            _ = try await AgentAdministration(store: store).createAgent(name: "two", by: actor)
            let chain = try await store.auditChain()
            #expect(chain.first?.type == AuditChain.initializationType, "the initialisation record comes first")
            #expect(AuditChain.verify(chain, key: key) == nil)
            #expect(AuditChain.verify(Array(chain.dropFirst()), key: key) != nil, "the start removed")
            try await store.unsafeExecute("DELETE FROM audit_events")
            #expect(AuditChain.verify(try await store.auditChain(), key: key) == .missingStart, "the whole log removed")
        }
    }

    @Test("the database is in WAL mode with every migration applied, and survives reopening")
    func walAndMigrations() async throws {
        try await Self.withDirectory { directory in
            let path = directory.appendingPathComponent("agentauth.sqlite").path
            let agentID: String
            do {
                let store = try SQLiteStore(path: path)
                #expect(try await store.journalMode() == "wal")
                #expect(
                    try await store.appliedMigrations() == [
                        "v1 agents and api keys", "v2 oauth clients and signing keys", "v3 revocation feed and audit log", "v4 delegation policy",
                    ]
                )
                agentID = try await AgentAdministration(store: store).createAgent(name: "persisted", by: .test).id
            }
            let reopened = try SQLiteStore(path: path)
            #expect(try await reopened.agent(id: agentID)?.name == "persisted")
            #expect(
                try await reopened.appliedMigrations() == [
                    "v1 agents and api keys", "v2 oauth clients and signing keys", "v3 revocation feed and audit log", "v4 delegation policy",
                ]
            )
        }
    }

    @Test("two stores on one file (CLI next to a running server) both write without errors")
    func concurrentWriters() async throws {
        try await Self.withDirectory { directory in
            let path = directory.appendingPathComponent("shared.sqlite").path
            let first = AgentAdministration(store: try SQLiteStore(path: path))
            let second = AgentAdministration(store: try SQLiteStore(path: path))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<40 {
                    group.addTask { _ = try await (index.isMultiple(of: 2) ? first : second).createAgent(name: "agent \(index)", by: .test) }
                }
                try await group.waitForAll()
            }
            #expect(try await first.agents(limit: 1000).count == 40)
        }
    }

    @Test("an unopenable path is a clear store error, not a crash")
    func unopenable() async throws {
        #expect(throws: StoreError.self) { try SQLiteStore(path: "/proc/agentauth/cannot/exist.sqlite") }
    }
}
