import AgentAuthCore
import AgentAuthSQLite
import AgentAuthStoreConformance
import AgentAuthTesting
import Foundation
import Logging
import ServiceLifecycle
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

    @Test("client cache conformance: another connection's commit (the CLI's) is seen at once", arguments: ClientCacheConformance.cases)
    func clientCacheConformance(_ conformanceCase: ClientCacheConformanceCase) async throws {
        try await Self.withDirectory { directory in
            let path = directory.appendingPathComponent("cache.sqlite").path
            let node = try SQLiteStore(path: path)
            let other = try SQLiteStore(path: path)
            try await conformanceCase.run(node: node, other: other, othersSeenAtOnce: true)
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
                        "v5 signing-key events in the revocation feed", "v6 rate limits, quotas and usage", "v7 verifier registry",
                    ]
                )
                agentID = try await AgentAdministration(store: store).createAgent(name: "persisted", by: .test).id
            }
            let reopened = try SQLiteStore(path: path)
            #expect(try await reopened.agent(id: agentID)?.name == "persisted")
            #expect(
                try await reopened.appliedMigrations() == [
                    "v1 agents and api keys", "v2 oauth clients and signing keys", "v3 revocation feed and audit log", "v4 delegation policy",
                    "v5 signing-key events in the revocation feed", "v6 rate limits, quotas and usage", "v7 verifier registry",
                ]
            )
        }
    }

    @Test("a database from before signing-key feed events keeps its events and its seq (never reused) when it migrates")
    func signingKeyEventsMigration() async throws {
        try await Self.withDirectory { directory in
            let path = directory.appendingPathComponent("agentauth.sqlite").path
            let date = Date(timeIntervalSince1970: 1_800_000_000)
            do {
                let store = try SQLiteStore(path: path)
                let agent = try await AgentAdministration(store: store).createAgent(name: "revoked", by: .test)
                for (jti, expiry) in [("at_1", 3600.0), ("at_2", 3600), ("at_3", 10)] {
                    _ = try await store.revokeToken(jti: jti, agentID: agent.id, expiresAt: date.addingTimeInterval(expiry), at: date)
                }
                // The newest event is pruned: the sequence, not the rows, knows seq 3 was issued.
                try await store.pruneRevocations(expiredBefore: date.addingTimeInterval(100), olderThan: date)
            }
            // Back to the v4 schema, as an older release left it.
            try await Self.sqlite(
                path,
                """
                CREATE TABLE old (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL CHECK (kind IN ('token', 'api_key', 'agent')),
                    subject TEXT NOT NULL, agent_id TEXT, at REAL NOT NULL, expires_at REAL);
                INSERT INTO old SELECT seq, kind, subject, agent_id, at, expires_at FROM revocation_events;
                DROP TABLE revocation_events;
                ALTER TABLE old RENAME TO revocation_events;
                CREATE UNIQUE INDEX revocation_events_token ON revocation_events (subject) WHERE kind = 'token';
                DELETE FROM sqlite_sequence WHERE name = 'revocation_events';
                INSERT INTO sqlite_sequence (name, seq) VALUES ('revocation_events', 3);
                DELETE FROM grdb_migrations WHERE identifier LIKE 'v5 %';
                """
            )
            let store = try SQLiteStore(path: path)
            #expect(try await store.appliedMigrations().contains("v5 signing-key events in the revocation feed"))
            #expect(try await store.revocations(after: 0, limit: 10).map(\.subject) == ["at_1", "at_2"], "every event is kept")
            #expect(try await store.revocationBounds() == (1, 3), "the latest seq survives the rebuild")
            try await store.insertSigningKey(
                SigningKey(kid: "kid-a", algorithm: .eddsa, publicJWK: "{}", sealedPrivateKey: Data([1]), status: .active, createdAt: date)
            )
            try await store.rotateSigningKey(
                to: SigningKey(kid: "kid-b", algorithm: .eddsa, publicJWK: "{}", sealedPrivateKey: Data([2]), status: .active, createdAt: date),
                retiredAt: date,
                publishedUntil: date.addingTimeInterval(60)
            )
            let rotation = try await store.revocations(after: 2, limit: 10)
            #expect(rotation.map(\.seq) == [4, 5] && rotation.allSatisfy { $0.kind == .signingKey }, "new events take new seqs: \(rotation)")
        }
    }

    /// Runs SQL with python3's sqlite3 module: an outside tool, as an older release's schema would be.
    static func sqlite(_ path: String, _ sql: String) async throws {
        let result = try await ChildProcess.run(
            "/usr/bin/env",
            ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()", path, sql]
        )
        guard result.status == 0 else { throw ChildProcessError("sqlite3 failed: \(result.stderr)") }
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

    @Test("graceful shutdown of the store's service closes the database: run() returns and no descriptor is left open on its files")
    func gracefulShutdown() async throws {
        try await Self.withDirectory { directory in
            let store = try SQLiteStore(path: directory.appendingPathComponent("agentauth.sqlite").path)
            let group = ServiceGroup(services: [store], logger: Logger(label: "test"))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let agent = try await AgentAdministration(store: store).createAgent(name: "written", by: .test)
                #expect(try await store.agent(id: agent.id)?.name == "written", "read through the lookup pool")
                #expect(!Self.openFiles(under: directory).isEmpty, "the running store holds its files open")
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            #expect(Self.openFiles(under: directory) == [], "every connection of both pools is closed")
            await #expect(throws: StoreError.self, "a closed store refuses work") { try await store.ping() }
        }
    }

    /// The files under `directory` this process has open (Linux: `/proc/self/fd`).
    static func openFiles(under directory: URL) -> [String] {
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return descriptors.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)") }
            .filter { $0.hasPrefix(directory.path + "/") }
    }
}
