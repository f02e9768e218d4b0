import AgentAuthCore
import AgentAuthPostgres
import AgentAuthStoreConformance
import AgentAuthTesting
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Testing

@Suite("PostgreSQL store")
struct PostgresStoreTests {
    /// A new, empty database on the test server, for one test.
    static func withDatabase<T>(_ body: (String) async throws -> T) async throws -> T {
        try await body(try await ThrowawayPostgres.newDatabase(prefix: "agentauth_test_"))
    }

    /// Runs `store` while `body` works with it (its pool serves only while it runs), then cancels it.
    static func whileRunning<T>(_ store: PostgresStore, _ body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    @Test("store conformance", arguments: StoreConformance.cases)
    func conformance(_ conformanceCase: StoreConformanceCase) async throws {
        try await Self.withDatabase { url in
            let store = try await PostgresStore(url: url)
            try await Self.whileRunning(store) { try await conformanceCase.run(on: store) }
        }
    }

    @Test("every migration is applied once, also when the store is opened again")
    func migrations() async throws {
        try await Self.withDatabase { url in
            let first = try await PostgresStore(url: url)
            let (names, agent) = try await Self.whileRunning(first) {
                (try await first.appliedMigrations(), try await AgentAdministration(store: first).createAgent(name: "persisted", by: .test))
            }
            #expect(
                names == [
                    "v1 agents and api keys", "v2 oauth clients and signing keys", "v3 revocation feed and audit log",
                    "v4 signing-key events in the revocation feed", "v5 rate limits, quotas and usage",
                ]
            )
            let second = try await PostgresStore(url: url)
            let (reopened, name) = try await Self.whileRunning(second) {
                (try await second.appliedMigrations(), try await second.agent(id: agent.id)?.name)
            }
            #expect(reopened == names)
            #expect(name == "persisted")
        }
    }

    @Test("a bad URL or an unreachable server is a clear store error")
    func unreachable() async throws {
        await #expect(throws: StoreError.self) { _ = try await PostgresStore(url: "mysql://x") }
        let port = try LoopbackPort.free()
        await #expect(throws: StoreError.self) { _ = try await PostgresStore(url: "postgres://agentauth@127.0.0.1:\(port)/none") }
    }

    @Test(
        "graceful shutdown of the store's service: run() returns, every connection it opened (pool and LISTEN) is closed, change streams end",
        .timeLimit(.minutes(1))
    )
    func gracefulShutdown() async throws {
        try await Self.withDatabase { url in
            let store = try await PostgresStore(url: url)
            #expect(try await Self.connections(to: url) == 0, "opening (check and migrations) leaves no connection behind")
            let group = ServiceGroup(services: [store], logger: Logger(label: "test"))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var changes = store.changes().makeAsyncIterator()
                #expect(await changes.next() == .resync, "the listener connects for its first subscriber")
                // Several queries at once, so the pool holds more than one connection.
                try await withThrowingTaskGroup(of: Void.self) { queries in
                    for _ in 0..<4 { queries.addTask { _ = try await store.agents(limit: 10, offset: 0) } }
                    try await queries.waitForAll()
                }
                #expect(try await Self.connections(to: url) >= 2, "the pool and the listener are connected while the store runs")

                let start = ContinuousClock.now
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                #expect(ContinuousClock.now - start < .seconds(5), "run() returns promptly")
                #expect(await changes.next() == nil, "a subscriber's stream ends when the store stops")
            }
            var remaining = try await Self.connections(to: url)
            let deadline = ContinuousClock.now + .seconds(3)
            while remaining > 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                remaining = try await Self.connections(to: url)
            }
            #expect(remaining == 0, "no connection to the store's database is left")
        }
    }

    /// How many sessions PostgreSQL has open on the database of `url`, counted from a connection
    /// to another database.
    static func connections(to url: String) async throws -> Int {
        let database = String(try #require(URLComponents(string: url)).path.dropFirst())
        return try await ThrowawayPostgres.withConnection(to: url, database: "postgres") { connection in
            let rows = try await connection.query(
                "SELECT count(*)::INT FROM pg_stat_activity WHERE datname = \(database)",
                logger: Logger(label: "test")
            )
            var count = 0
            for try await value in rows.decode(Int.self) { count = value }
            return count
        }
    }
}
