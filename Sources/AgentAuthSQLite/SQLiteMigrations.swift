import AgentAuthCore
import GRDB

/// Versioned schema migrations. A migration, once released, is never edited: changes are new migrations.
enum SQLiteMigrations {
    /// Throws `StoreError.newerSchema` when the file carries migrations this release does not
    /// register (GRDB would otherwise open it and leave them be).
    static func refuseNewerSchema(_ pool: DatabasePool) throws {
        let unknown = try pool.read { db in
            try migrator.appliedIdentifiers(db).subtracting(migrator.appliedMigrations(db)).sorted()
        }
        if !unknown.isEmpty { throw StoreError.newerSchema(unknown) }
    }

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
        migrator.registerMigration("v2 oauth clients and signing keys") { db in
            try db.execute(
                sql: """
                    CREATE TABLE oauth_clients (
                        client_id TEXT PRIMARY KEY NOT NULL,
                        agent_id TEXT NOT NULL REFERENCES agents (id),
                        scopes TEXT NOT NULL,
                        audiences TEXT NOT NULL,
                        token_ttl INTEGER NOT NULL,
                        grant_types TEXT NOT NULL,
                        auth_method TEXT NOT NULL,
                        jwks TEXT,
                        secret_hash TEXT,
                        previous_secret_hash TEXT,
                        previous_secret_expires_at REAL,
                        created_at REAL NOT NULL
                    );
                    CREATE INDEX oauth_clients_agent ON oauth_clients (agent_id, created_at);
                    CREATE TABLE assertion_ids (
                        client_id TEXT NOT NULL,
                        jti TEXT NOT NULL,
                        expires_at REAL NOT NULL,
                        PRIMARY KEY (client_id, jti)
                    );
                    CREATE INDEX assertion_ids_expiry ON assertion_ids (expires_at);
                    CREATE TABLE signing_keys (
                        kid TEXT PRIMARY KEY NOT NULL,
                        algorithm TEXT NOT NULL,
                        public_jwk TEXT NOT NULL,
                        sealed_private_key BLOB NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('active', 'retired')),
                        created_at REAL NOT NULL,
                        retired_at REAL,
                        published_until REAL
                    );
                    CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (status) WHERE status = 'active';
                    """
            )
        }
        migrator.registerMigration("v3 revocation feed and audit log") { db in
            try db.execute(
                sql: """
                    CREATE TABLE revocation_events (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        kind TEXT NOT NULL CHECK (kind IN ('token', 'api_key', 'agent')),
                        subject TEXT NOT NULL,
                        agent_id TEXT,
                        at REAL NOT NULL,
                        expires_at REAL
                    );
                    CREATE UNIQUE INDEX revocation_events_token ON revocation_events (subject) WHERE kind = 'token';
                    CREATE TABLE audit_events (
                        seq INTEGER PRIMARY KEY,
                        time REAL NOT NULL,
                        type TEXT NOT NULL,
                        agent_id TEXT,
                        credential_id TEXT,
                        client_address TEXT,
                        request_id TEXT,
                        outcome TEXT NOT NULL,
                        details TEXT NOT NULL,
                        previous_hash TEXT NOT NULL,
                        hash TEXT NOT NULL
                    );
                    CREATE INDEX audit_events_agent ON audit_events (agent_id, seq);
                    CREATE INDEX audit_events_type ON audit_events (type, seq);
                    """
            )
        }
        migrator.registerMigration("v4 delegation policy") { db in
            try db.execute(sql: "ALTER TABLE agents ADD COLUMN may_act TEXT")
        }
        migrator.registerMigration("v5 signing-key events in the revocation feed") { db in
            // SQLite can't alter a CHECK constraint: the table is rebuilt, keeping every event and
            // the sequence (pruning may have removed the newest rows; a seq is never reused).
            let sequence = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'revocation_events'")
            try db.execute(
                sql: """
                    CREATE TABLE revocation_events_v5 (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        kind TEXT NOT NULL CHECK (kind IN ('token', 'api_key', 'agent', 'signing_key')),
                        subject TEXT NOT NULL,
                        agent_id TEXT,
                        at REAL NOT NULL,
                        expires_at REAL
                    );
                    INSERT INTO revocation_events_v5 (seq, kind, subject, agent_id, at, expires_at)
                        SELECT seq, kind, subject, agent_id, at, expires_at FROM revocation_events;
                    DROP TABLE revocation_events;
                    ALTER TABLE revocation_events_v5 RENAME TO revocation_events;
                    CREATE UNIQUE INDEX revocation_events_token ON revocation_events (subject) WHERE kind = 'token';
                    DELETE FROM sqlite_sequence WHERE name = 'revocation_events';
                    """
            )
            if let sequence {
                try db.execute(sql: "INSERT INTO sqlite_sequence (name, seq) VALUES ('revocation_events', ?)", arguments: [sequence])
            }
        }
        migrator.registerMigration("v6 rate limits, quotas and usage") { db in
            // api_keys.rate_limit becomes nullable (no tier) and revocation_events.kind takes the
            // client, limits and quota kinds: SQLite can alter neither, so both tables are rebuilt
            // as v5 rebuilt the feed, keeping every row, index and reference, and the feed's sequence.
            // 'standard' was every key's default before tiers were enforced: it becomes no tier, so
            // an upgrade starts limiting no key nobody asked to limit. Tiers asked for ('low', 'high')
            // stay, and 'unlimited' keeps meaning no limit.
            let sequence = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'revocation_events'")
            try db.execute(
                sql: """
                    ALTER TABLE agents ADD COLUMN rate_limit TEXT;
                    ALTER TABLE agents ADD COLUMN quota_requests INTEGER;
                    ALTER TABLE agents ADD COLUMN quota_period TEXT CHECK (quota_period IN ('hour', 'day', 'month'));
                    CREATE TABLE api_keys_v6 (
                        id TEXT PRIMARY KEY NOT NULL,
                        agent_id TEXT NOT NULL REFERENCES agents (id),
                        name TEXT,
                        key_hash TEXT NOT NULL UNIQUE,
                        display TEXT NOT NULL,
                        scopes TEXT NOT NULL,
                        rate_limit TEXT,
                        quota_requests INTEGER,
                        quota_period TEXT CHECK (quota_period IN ('hour', 'day', 'month')),
                        status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
                        created_at REAL NOT NULL,
                        expires_at REAL,
                        revoked_at REAL,
                        last_used_at REAL,
                        replaced_by TEXT REFERENCES api_keys (id)
                    );
                    INSERT INTO api_keys_v6 (id, agent_id, name, key_hash, display, scopes, rate_limit, status, created_at, expires_at,
                                             revoked_at, last_used_at, replaced_by)
                        SELECT id, agent_id, name, key_hash, display, scopes, NULLIF(rate_limit, 'standard'), status, created_at,
                               expires_at, revoked_at, last_used_at, replaced_by FROM api_keys;
                    DROP TABLE api_keys;
                    ALTER TABLE api_keys_v6 RENAME TO api_keys;
                    CREATE INDEX api_keys_agent ON api_keys (agent_id, created_at);
                    ALTER TABLE oauth_clients ADD COLUMN name TEXT;
                    ALTER TABLE oauth_clients ADD COLUMN rate_limit TEXT;
                    ALTER TABLE oauth_clients ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled'));
                    ALTER TABLE oauth_clients ADD COLUMN disabled_at REAL;
                    CREATE TABLE rate_limit_tiers (
                        name TEXT PRIMARY KEY NOT NULL,
                        requests INTEGER NOT NULL,
                        window_seconds INTEGER NOT NULL,
                        burst INTEGER NOT NULL
                    );
                    INSERT INTO rate_limit_tiers (name, requests, window_seconds, burst)
                        VALUES ('low', 60, 60, 60), ('standard', 600, 60, 600), ('high', 6000, 60, 6000);
                    CREATE TABLE usage_batches (
                        batch_id TEXT PRIMARY KEY NOT NULL,
                        received_at REAL NOT NULL
                    );
                    CREATE INDEX usage_batches_received ON usage_batches (received_at);
                    CREATE TABLE usage_counts (
                        agent_id TEXT NOT NULL,
                        credential_id TEXT NOT NULL,
                        hour REAL NOT NULL,
                        requests INTEGER NOT NULL,
                        rate_limited INTEGER NOT NULL,
                        PRIMARY KEY (agent_id, credential_id, hour)
                    );
                    CREATE INDEX usage_counts_credential ON usage_counts (credential_id, hour);
                    CREATE TABLE quota_exhaustions (
                        subject TEXT NOT NULL,
                        period_start REAL NOT NULL,
                        agent_id TEXT NOT NULL,
                        until REAL NOT NULL,
                        quota INTEGER NOT NULL,
                        used INTEGER NOT NULL,
                        PRIMARY KEY (subject, period_start)
                    );
                    CREATE TABLE revocation_events_v6 (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        kind TEXT NOT NULL CHECK (kind IN ('token', 'api_key', 'agent', 'signing_key', 'client', 'limits', 'quota')),
                        subject TEXT NOT NULL,
                        agent_id TEXT,
                        at REAL NOT NULL,
                        expires_at REAL
                    );
                    INSERT INTO revocation_events_v6 (seq, kind, subject, agent_id, at, expires_at)
                        SELECT seq, kind, subject, agent_id, at, expires_at FROM revocation_events;
                    DROP TABLE revocation_events;
                    ALTER TABLE revocation_events_v6 RENAME TO revocation_events;
                    CREATE UNIQUE INDEX revocation_events_token ON revocation_events (subject) WHERE kind = 'token';
                    DELETE FROM sqlite_sequence WHERE name = 'revocation_events';
                    """
            )
            if let sequence {
                try db.execute(sql: "INSERT INTO sqlite_sequence (name, seq) VALUES ('revocation_events', ?)", arguments: [sequence])
            }
        }
        migrator.registerMigration("v7 verifier registry") { db in
            try db.execute(
                sql: """
                    CREATE TABLE verifiers (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        agent_id TEXT NOT NULL,
                        cursor INTEGER NOT NULL,
                        last_seen REAL NOT NULL,
                        first_seen REAL NOT NULL,
                        bound_ms INTEGER NOT NULL
                    );
                    CREATE INDEX verifiers_agent ON verifiers (agent_id, last_seen);
                    """
            )
        }
        return migrator
    }
}
