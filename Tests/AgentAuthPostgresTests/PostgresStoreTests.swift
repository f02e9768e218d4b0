import AgentAuthCore
import AgentAuthPostgres
import AgentAuthStoreConformance
import Foundation
import Testing

@Suite("PostgreSQL store")
struct PostgresStoreTests {
    /// A new, empty database on the test server, for one test.
    static func withDatabase<T>(_ body: (String) async throws -> T) async throws -> T {
        try await body(try await ThrowawayPostgres.newDatabase(prefix: "agentauth_test_"))
    }

    @Test("store conformance", arguments: StoreConformance.cases)
    func conformance(_ conformanceCase: StoreConformanceCase) async throws {
        try await Self.withDatabase { url in
            let store = try await PostgresStore(url: url)
            defer { store.shutdown() }
            try await conformanceCase.run(on: store)
        }
    }

    @Test("every migration is applied once, also when the store is opened again")
    func migrations() async throws {
        try await Self.withDatabase { url in
            let first = try await PostgresStore(url: url)
            let names = try await first.appliedMigrations()
            #expect(
                names == [
                    "v1 agents and api keys", "v2 oauth clients and signing keys", "v3 revocation feed and audit log",
                    "v4 signing-key events in the revocation feed",
                ]
            )
            let agent = try await AgentAdministration(store: first).createAgent(name: "persisted", by: .test)
            first.shutdown()
            let second = try await PostgresStore(url: url)
            defer { second.shutdown() }
            #expect(try await second.appliedMigrations() == names)
            #expect(try await second.agent(id: agent.id)?.name == "persisted")
        }
    }

    @Test("a bad URL or an unreachable server is a clear store error")
    func unreachable() async throws {
        await #expect(throws: StoreError.self) { _ = try await PostgresStore(url: "mysql://x") }
        let port = try ThrowawayPostgres.freePort()
        await #expect(throws: StoreError.self) { _ = try await PostgresStore(url: "postgres://agentauth@127.0.0.1:\(port)/none") }
    }
}
