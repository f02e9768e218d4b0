import GRDB

/// Versioned schema migrations. A migration, once released, is never edited: changes are new migrations.
enum SQLiteMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 agents and api keys") { db in
            try db.execute(
                sql: """
                    CREATE TABLE settings (
                        name TEXT PRIMARY KEY NOT NULL,
                        value TEXT NOT NULL
                    );
                    CREATE TABLE agents (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
                        created_at REAL NOT NULL,
                        disabled_at REAL
                    );
                    CREATE INDEX agents_created ON agents (created_at, id);
                    CREATE TABLE api_keys (
                        id TEXT PRIMARY KEY NOT NULL,
                        agent_id TEXT NOT NULL REFERENCES agents (id),
                        name TEXT,
                        key_hash TEXT NOT NULL UNIQUE,
                        display TEXT NOT NULL,
                        scopes TEXT NOT NULL,
                        rate_limit TEXT NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
                        created_at REAL NOT NULL,
                        expires_at REAL,
                        revoked_at REAL,
                        last_used_at REAL,
                        replaced_by TEXT REFERENCES api_keys (id)
                    );
                    CREATE INDEX api_keys_agent ON api_keys (agent_id, created_at);
                    """
            )
        }
        return migrator
    }
}
