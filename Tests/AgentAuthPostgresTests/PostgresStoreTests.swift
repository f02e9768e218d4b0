import AgentAuthCore
import AgentAuthStoreConformance
import AgentAuthTesting
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Testing

@testable import AgentAuthPostgres

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
            // The suite checks what the store does, not how fast: its cases run all at once at the
            // start of a full run on two cores, where the writers of the concurrent cases could
            // queue past the 5 s a server allows (that deadline is tested on its own, with
            // PostgreSQL stopped: PostgresCLITests).
            let store = try await PostgresStore(url: url, operationTimeout: .seconds(30))
            try await Self.whileRunning(store) { try await conformanceCase.run(on: store) }
        }
    }

    @Test("client cache conformance: another node's change is seen once its notification arrives", arguments: ClientCacheConformance.cases)
    func clientCacheConformance(_ conformanceCase: ClientCacheConformanceCase) async throws {
        try await Self.withDatabase { url in
            let node = try await PostgresStore(url: url, operationTimeout: .seconds(30))
            let other = try await PostgresStore(url: url, operationTimeout: .seconds(30))
            try await Self.whileRunning(node) {
                try await Self.whileRunning(other) { try await conformanceCase.run(node: node, other: other, othersSeenAtOnce: false) }
            }
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
                    "v4 signing-key events in the revocation feed", "v5 rate limits, quotas and usage", "v6 verifier registry",
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

    @Test("a database a newer release migrated is refused with a line naming its unknown migrations")
    func newerSchemaRefused() async throws {
        try await Self.withDatabase { url in
            let first = try await PostgresStore(url: url)
            try await Self.whileRunning(first) { _ = try await AgentAdministration(store: first).createAgent(name: "kept", by: .test) }
            _ = try await ThrowawayPostgres.withConnection(to: url) { connection in
                try await connection.query(
                    "INSERT INTO schema_migrations (name, applied_at) VALUES ('v99 from a later release', 0)",
                    logger: Logger(label: "test")
                )
            }
            await #expect(throws: StoreError.newerSchema(["v99 from a later release"])) { _ = try await PostgresStore(url: url) }
        }
    }

    @Test("a database from before rate limits keeps its keys and their tiers ('unlimited' too), and takes the new feed events")
    func rateLimitsMigration() async throws {
        try await Self.withDatabase { url in
            // The schema an older release left, with rows it wrote.
            try await ThrowawayPostgres.withConnection(to: url) { connection in
                let logger = Logger(label: "test")
                try await connection.query(
                    "CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)",
                    logger: logger
                )
                for migration in PostgresMigrations.all.prefix(while: { $0.name != "v5 rate limits, quotas and usage" }) {
                    for statement in migration.sql {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.query("INSERT INTO schema_migrations (name, applied_at) VALUES (\(migration.name), 0)", logger: logger)
                }
                for statement in [
                    "INSERT INTO agents (id, name, status, created_at) VALUES ('agt_old', 'old', 'active', 1800000000)",
                    """
                    INSERT INTO api_keys (id, agent_id, name, key_hash, display, scopes, rate_limit, status, created_at, replaced_by)
                    VALUES ('key_new', 'agt_old', NULL, 'hash-new', 'sk-agent-new', 'a', 'unlimited', 'active', 1800000001, NULL),
                           ('key_high', 'agt_old', NULL, 'hash-high', 'sk-agent-high', 'a', 'high', 'active', 1800000002, NULL),
                           ('key_old', 'agt_old', 'ci', 'hash-old', 'sk-agent-old', 'a', 'standard', 'active', 1800000000, 'key_new')
                    """,
                    """
                    INSERT INTO oauth_clients (client_id, agent_id, scopes, audiences, token_ttl, grant_types, auth_method, created_at)
                    VALUES ('cli_old', 'agt_old', 'a', '["agentauth"]', 600, 'client_credentials', 'client_secret_post', 1800000000)
                    """,
                    "INSERT INTO revocation_events (kind, subject, agent_id, at) VALUES ('api_key', 'key_gone', 'agt_old', 1800000000)",
                ] {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
            }
            let store = try await PostgresStore(url: url)
            try await Self.whileRunning(store) {
                #expect(try await store.appliedMigrations().last == "v6 verifier registry")
                let old = try #require(try await store.apiKey(id: "key_old"))
                #expect(old.rateLimit == nil && old.replacedBy == "key_new" && old.quota == nil, "\(old)")
                #expect(try await store.apiKey(id: "key_new")?.rateLimit == "unlimited", "a stored 'unlimited' stays")
                #expect(try await store.apiKey(id: "key_high")?.rateLimit == "high", "a tier asked for stays; the old default 'standard' does not")
                var untiered = old
                untiered.id = "key_untiered"
                untiered.keyHash = "hash-untiered"
                untiered.rateLimit = nil
                untiered.replacedBy = nil
                try await store.insertAPIKey(untiered)
                #expect(try await store.apiKey(id: "key_untiered")?.rateLimit == nil, "a key without a tier is stored without one")
                let client = try #require(try await store.client(id: "cli_old"))
                #expect(client.status == .active && client.disabledAt == nil && client.name == nil && client.rateLimit == nil)
                #expect(try await store.rateLimitTiers() == RateLimitTier.builtIn.sorted { $0.name < $1.name }, "the built-in tiers")
                _ = try await store.setClientStatus(id: "cli_old", status: .disabled, at: Date(timeIntervalSince1970: 1_800_000_010), audit: nil)
                let events = try await store.revocations(after: 0, limit: 10)
                #expect(events.map(\.kind) == [.apiKey, .client], "the old event is kept, a client event is accepted: \(events)")
            }
        }
    }

    @Test("new feed events (client, limits, quota) notify the other nodes, as revocations do", .timeLimit(.minutes(1)))
    func feedNotifications() async throws {
        try await Self.withDatabase { url in
            let store = try await PostgresStore(url: url)
            let other = try await PostgresStore(url: url)
            try await Self.whileRunning(store) {
                try await Self.whileRunning(other) {
                    var changes = other.changes().makeAsyncIterator()
                    #expect(await changes.next() == .resync, "the listener connects")
                    let agent = try await AgentAdministration(store: store).createAgent(name: "noticed", by: .test)
                    var client = OAuthClient(
                        clientID: "cli_noticed",
                        agentID: agent.id,
                        scopes: ScopeSet(),
                        audiences: ["agentauth"],
                        tokenTTL: 600,
                        grantTypes: [.clientCredentials],
                        authMethod: .clientSecretPost,
                        jwks: nil,
                        secretHash: nil,
                        createdAt: Date()
                    )
                    try await store.insertClient(client)
                    _ = try await store.setClientStatus(id: client.clientID, status: .disabled, at: Date(), audit: nil)
                    #expect(await changes.next() == .revocation, "a client event")
                    client.rateLimit = "low"
                    _ = try await store.updateClient(client, at: Date(), audit: nil)
                    #expect(await changes.next() == .revocation, "a limits event")
                    var limited = agent
                    limited.quota = Quota(requests: 1, period: .hour)
                    _ = try await store.updateAgent(limited, at: Date(), audit: nil)
                    #expect(await changes.next() == .revocation, "a limits event for the agent")
                    let count = UsageReport.Count(agentID: agent.id, credentialID: client.clientID, requests: 1, rateLimited: 0)
                    let exhausted = try await store.recordUsage(UsageReport(batchID: "b1", counts: [count]), at: Date())
                    #expect(exhausted?.count == 1, "the quota is used up")
                    #expect(await changes.next() == .revocation, "a quota event")
                }
            }
        }
    }

    @Test("usage reported by two nodes at once is counted whole, and a quota is found used up once", .timeLimit(.minutes(1)))
    func concurrentUsage() async throws {
        try await Self.withDatabase { url in
            let first = try await PostgresStore(url: url)
            let second = try await PostgresStore(url: url)
            try await Self.whileRunning(first) {
                try await Self.whileRunning(second) {
                    var agent = Agent(id: "agt_busy", name: "busy", status: .active, createdAt: Date(timeIntervalSince1970: 1_800_000_000))
                    agent.quota = Quota(requests: 100, period: .day)
                    try await first.insertAgent(agent)
                    let at = Date(timeIntervalSince1970: 1_800_000_100)
                    // 40 reports of 3 requests each over the same rows, half from each node: 120 in all.
                    let exhausted = try await withThrowingTaskGroup(of: [QuotaExhaustion]?.self) { group in
                        for index in 0..<40 {
                            let store = index.isMultiple(of: 2) ? first : second
                            let counts = ["key_a", "key_b", "cli_c"].map {
                                UsageReport.Count(agentID: agent.id, credentialID: $0, requests: 1, rateLimited: index % 3)
                            }
                            group.addTask { try await store.recordUsage(UsageReport(batchID: "batch-\(index)", counts: counts), at: at) }
                        }
                        return try await group.reduce(into: [QuotaExhaustion]()) { $0 += $1 ?? [] }
                    }
                    #expect(exhausted.count == 1, "found used up once: \(exhausted)")
                    #expect(exhausted.first.map { $0.used >= 100 && $0.used <= 120 } == true, "at the report that reached it")
                    let usage = try await first.usage(agentID: agent.id, since: at)
                    #expect(usage.requests == 120 && usage.byCredential == ["key_a": 40, "key_b": 40, "cli_c": 40], "every count: \(usage)")
                    #expect(usage.rateLimited == (0..<40).reduce(0) { $0 + 3 * ($1 % 3) })
                    let events = try await first.revocations(after: 0, limit: 100).filter { $0.kind == .quota }
                    #expect(events.count == 1, "one quota event: \(events)")
                }
            }
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
