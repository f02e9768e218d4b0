import AgentAuthCore
import AgentAuthTesting
import Foundation
import GRDB
import Testing

@testable import AgentAuthSQLite

@Suite("SQLite store migrations")
struct SQLiteMigrationTests {
    @Test("a database from before rate limits keeps its keys, their tiers ('unlimited' too), references and indexes, and the feed's seq")
    func rateLimitsMigration() async throws {
        try await SQLiteStoreTests.withDirectory { directory in
            let path = directory.appendingPathComponent("agentauth.sqlite").path
            // The schema an older release left, with rows it wrote.
            let queue = try DatabaseQueue(path: path)
            try SQLiteMigrations.migrator.migrate(queue, upTo: "v5 signing-key events in the revocation feed")
            try await queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO agents (id, name, status, created_at) VALUES ('agt_old', 'old', 'active', 1800000000);
                        INSERT INTO api_keys (id, agent_id, name, key_hash, display, scopes, rate_limit, status, created_at, replaced_by)
                            VALUES ('key_new', 'agt_old', NULL, 'hash-new', 'sk-agent-new', 'a', 'unlimited', 'active', 1800000001, NULL),
                                   ('key_high', 'agt_old', NULL, 'hash-high', 'sk-agent-high', 'a', 'high', 'active', 1800000002, NULL),
                                   ('key_old', 'agt_old', 'ci', 'hash-old', 'sk-agent-old', 'a', 'standard', 'active', 1800000000, 'key_new');
                        INSERT INTO oauth_clients (client_id, agent_id, scopes, audiences, token_ttl, grant_types, auth_method, created_at)
                            VALUES ('cli_old', 'agt_old', 'a', '["agentauth"]', 600, 'client_credentials', 'client_secret_post', 1800000000);
                        INSERT INTO revocation_events (kind, subject, agent_id, at)
                            VALUES ('api_key', 'key_gone', 'agt_old', 1800000000), ('agent', 'agt_old', 'agt_old', 1800000001),
                                   ('signing_key', 'kid-1', NULL, 1800000002);
                        DELETE FROM revocation_events WHERE seq = 3;
                        """
                )
            }
            try queue.close()

            let store = try SQLiteStore(path: path)
            #expect(try await store.appliedMigrations().last == "v7 verifier registry")
            let old = try #require(try await store.apiKey(id: "key_old"))
            #expect(old.rateLimit == nil && old.name == "ci" && old.replacedBy == "key_new" && old.quota == nil, "\(old)")
            #expect(try await store.apiKey(id: "key_new")?.rateLimit == "unlimited", "a stored 'unlimited' stays")
            #expect(try await store.apiKey(id: "key_high")?.rateLimit == "high", "a tier asked for stays; the old default 'standard' does not")
            #expect(try await store.apiKeyWithAgent(hash: "hash-old")?.agent.id == "agt_old", "found by its hash")
            #expect(try await store.apiKeys(agentID: "agt_old").map(\.id) == ["key_old", "key_new", "key_high"], "listed oldest first")
            var duplicate = old
            duplicate.id = "key_duplicate"
            await #expect(throws: StoreError.conflict("a record with this identity already exists"), "the hash stays unique") {
                try await store.insertAPIKey(duplicate)
            }
            var orphan = old
            orphan.id = "key_orphan"
            orphan.keyHash = "hash-orphan"
            orphan.agentID = "agt_missing"
            await #expect(throws: StoreError.notFound("a referenced record does not exist"), "the agent reference stays") {
                try await store.insertAPIKey(orphan)
            }
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
            #expect(try await store.revocations(after: 0, limit: 10).map(\.subject) == ["key_gone", "agt_old"], "every event is kept")
            #expect(try await store.revocationBounds() == (1, 3), "the latest seq survives the rebuild")
            _ = try await store.setClientStatus(id: "cli_old", status: .disabled, at: Date(timeIntervalSince1970: 1_800_000_010), audit: nil)
            let added = try await store.revocations(after: 2, limit: 10)
            #expect(added.map(\.seq) == [4] && added.map(\.kind) == [.client], "a new kind of event takes a new seq: \(added)")

            let schema = try DatabaseQueue(path: path)
            try await schema.read { db in
                let indexes = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'")
                #expect(Set(["api_keys_agent", "revocation_events_token"]).isSubset(of: Set(indexes)), "indexes rebuilt: \(indexes)")
                let references = try Row.fetchAll(db, sql: "SELECT \"table\", \"from\" FROM pragma_foreign_key_list('api_keys')")
                    .map { "\($0["from"] as String)->\($0["table"] as String)" }
                #expect(Set(references) == ["agent_id->agents", "replaced_by->api_keys"], "references kept: \(references)")
            }
            try schema.close()
        }
    }

    @Test("a database a newer release migrated is refused with a line naming its unknown migrations, and left as it was")
    func newerSchemaRefused() async throws {
        try await SQLiteStoreTests.withDirectory { directory in
            let path = directory.appendingPathComponent("agentauth.sqlite").path
            let store = try SQLiteStore(path: path)
            _ = try await AgentAdministration(store: store).createAgent(name: "kept", by: .test)
            try await store.unsafeExecute("INSERT INTO grdb_migrations (identifier) VALUES ('v99 from a later release')")
            #expect(throws: StoreError.newerSchema(["v99 from a later release"])) { try SQLiteStore(path: path) }
            #expect(StoreError.newerSchema(["v99 from a later release"]).description.contains("newer release"))
            #expect(try await store.appliedMigrations().last == "v7 verifier registry", "nothing was migrated or undone")
            #expect(try await store.agents(limit: 10, offset: 0).map(\.name).contains("kept"))
        }
    }
}
