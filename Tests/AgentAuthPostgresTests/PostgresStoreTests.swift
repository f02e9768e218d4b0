import AgentAuthCore
import AgentAuthPostgres
import AgentAuthStoreConformance
import Foundation
import PostgresNIO
import Testing

@Suite("PostgreSQL store")
struct PostgresStoreTests {
    /// A new, empty database on the test server, for one test.
    static func withDatabase<T>(_ body: (String) async throws -> T) async throws -> T {
        let base = try await Task.detached { try ThrowawayPostgres.baseURL() }.value
        let name = "agentauth_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await admin(base) { client in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        }
        return try await body(base + "/" + name)
    }

    static func admin(_ base: String, _ body: (PostgresClient) async throws -> Void) async throws {
        guard let components = URLComponents(string: base), let host = components.host, let user = components.user else {
            throw ThrowawayPostgres.Failure("bad test URL")
        }
        let client = PostgresClient(
            configuration: .init(
                host: host,
                port: components.port ?? 5432,
                username: user,
                password: components.password,
                database: "postgres",
                tls: .disable
            ),
            backgroundLogger: .init(label: "test")
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await body(client)
        }
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
            #expect(names == ["v1 agents and api keys", "v2 oauth clients and signing keys", "v3 revocation feed and audit log"])
            let agent = try await AgentAdministration(store: first).createAgent(name: "persisted")
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
