import AgentAuthCore
import Logging
import PostgresNIO

/// Versioned schema migrations for PostgreSQL, applied in order, each in its own transaction,
/// under an advisory lock so that nodes starting together don't race. A released migration is
/// never edited.
enum PostgresMigrations {
    static let all: [(name: String, sql: [String])] = [
        (
            "v1 agents and api keys",
            [
                """
                CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)
                """,
                """
                CREATE TABLE agents (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
                    created_at DOUBLE PRECISION NOT NULL,
                    disabled_at DOUBLE PRECISION,
                    may_act TEXT
                )
                """,
                "CREATE INDEX agents_created ON agents (created_at, id)",
                """
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY,
                    agent_id TEXT NOT NULL REFERENCES agents (id),
                    name TEXT,
                    key_hash TEXT NOT NULL UNIQUE,
                    display TEXT NOT NULL,
                    scopes TEXT NOT NULL,
                    rate_limit TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
                    created_at DOUBLE PRECISION NOT NULL,
                    expires_at DOUBLE PRECISION,
                    revoked_at DOUBLE PRECISION,
                    last_used_at DOUBLE PRECISION,
                    replaced_by TEXT REFERENCES api_keys (id)
                )
                """,
                "CREATE INDEX api_keys_agent ON api_keys (agent_id, created_at)",
            ]
        ),
        (
            "v2 oauth clients and signing keys",
            [
                """
                CREATE TABLE oauth_clients (
                    client_id TEXT PRIMARY KEY,
                    agent_id TEXT NOT NULL REFERENCES agents (id),
                    scopes TEXT NOT NULL,
                    audiences TEXT NOT NULL,
                    token_ttl INTEGER NOT NULL,
                    grant_types TEXT NOT NULL,
                    auth_method TEXT NOT NULL,
                    jwks TEXT,
                    secret_hash TEXT,
                    previous_secret_hash TEXT,
                    previous_secret_expires_at DOUBLE PRECISION,
                    created_at DOUBLE PRECISION NOT NULL
                )
                """,
                "CREATE INDEX oauth_clients_agent ON oauth_clients (agent_id, created_at)",
                """
                CREATE TABLE assertion_ids (
                    client_id TEXT NOT NULL,
                    jti TEXT NOT NULL,
                    expires_at DOUBLE PRECISION NOT NULL,
                    PRIMARY KEY (client_id, jti)
                )
                """,
                """
                CREATE TABLE signing_keys (
                    kid TEXT PRIMARY KEY,
                    algorithm TEXT NOT NULL,
                    public_jwk TEXT NOT NULL,
                    sealed_private_key BYTEA NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('active', 'retired')),
                    created_at DOUBLE PRECISION NOT NULL,
                    retired_at DOUBLE PRECISION,
                    published_until DOUBLE PRECISION
                )
                """,
                "CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (status) WHERE status = 'active'",
            ]
        ),
        (
            "v3 revocation feed and audit log",
            [
                """
                CREATE TABLE revocation_events (
                    seq BIGSERIAL PRIMARY KEY,
                    kind TEXT NOT NULL CHECK (kind IN ('token', 'api_key', 'agent')),
                    subject TEXT NOT NULL,
                    agent_id TEXT,
                    at DOUBLE PRECISION NOT NULL,
                    expires_at DOUBLE PRECISION
                )
                """,
                "CREATE UNIQUE INDEX revocation_events_token ON revocation_events (subject) WHERE kind = 'token'",
                """
                CREATE TABLE audit_events (
                    seq BIGINT PRIMARY KEY,
                    time DOUBLE PRECISION NOT NULL,
                    type TEXT NOT NULL,
                    agent_id TEXT,
                    credential_id TEXT,
                    client_address TEXT,
                    request_id TEXT,
                    outcome TEXT NOT NULL,
                    details TEXT NOT NULL,
                    previous_hash TEXT NOT NULL,
                    hash TEXT NOT NULL
                )
                """,
                "CREATE INDEX audit_events_agent ON audit_events (agent_id, seq)",
                "CREATE INDEX audit_events_type ON audit_events (type, seq)",
            ]
        ),
        (
            "v4 signing-key events in the revocation feed",
            [
                "ALTER TABLE revocation_events DROP CONSTRAINT revocation_events_kind_check",
                """
                ALTER TABLE revocation_events ADD CONSTRAINT revocation_events_kind_check
                    CHECK (kind IN ('token', 'api_key', 'agent', 'signing_key'))
                """,
            ]
        ),
        (
            "v5 rate limits, quotas and usage",
            [
                // 'standard' was every key's default before tiers were enforced: it becomes no tier, so
                // an upgrade starts limiting no key nobody asked to limit. Tiers asked for ('low',
                // 'high') stay, and 'unlimited' keeps meaning no limit.
                """
                ALTER TABLE agents ADD COLUMN rate_limit TEXT, ADD COLUMN quota_requests BIGINT,
                    ADD COLUMN quota_period TEXT CHECK (quota_period IN ('hour', 'day', 'month'))
                """,
                """
                ALTER TABLE api_keys ALTER COLUMN rate_limit DROP NOT NULL, ADD COLUMN quota_requests BIGINT,
                    ADD COLUMN quota_period TEXT CHECK (quota_period IN ('hour', 'day', 'month'))
                """,
                "UPDATE api_keys SET rate_limit = NULL WHERE rate_limit = 'standard'",
                """
                ALTER TABLE oauth_clients ADD COLUMN name TEXT, ADD COLUMN rate_limit TEXT,
                    ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
                    ADD COLUMN disabled_at DOUBLE PRECISION
                """,
                """
                CREATE TABLE rate_limit_tiers (
                    name TEXT PRIMARY KEY,
                    requests BIGINT NOT NULL,
                    window_seconds BIGINT NOT NULL,
                    burst BIGINT NOT NULL
                )
                """,
                """
                INSERT INTO rate_limit_tiers (name, requests, window_seconds, burst)
                    VALUES ('low', 60, 60, 60), ('standard', 600, 60, 600), ('high', 6000, 60, 6000)
                """,
                "CREATE TABLE usage_batches (batch_id TEXT PRIMARY KEY, received_at DOUBLE PRECISION NOT NULL)",
                "CREATE INDEX usage_batches_received ON usage_batches (received_at)",
                """
                CREATE TABLE usage_counts (
                    agent_id TEXT NOT NULL,
                    credential_id TEXT NOT NULL,
                    hour DOUBLE PRECISION NOT NULL,
                    requests BIGINT NOT NULL,
                    rate_limited BIGINT NOT NULL,
                    PRIMARY KEY (agent_id, credential_id, hour)
                )
                """,
                "CREATE INDEX usage_counts_credential ON usage_counts (credential_id, hour)",
                """
                CREATE TABLE quota_exhaustions (
                    subject TEXT NOT NULL,
                    period_start DOUBLE PRECISION NOT NULL,
                    agent_id TEXT NOT NULL,
                    until DOUBLE PRECISION NOT NULL,
                    quota BIGINT NOT NULL,
                    used BIGINT NOT NULL,
                    PRIMARY KEY (subject, period_start)
                )
                """,
                "ALTER TABLE revocation_events DROP CONSTRAINT revocation_events_kind_check",
                """
                ALTER TABLE revocation_events ADD CONSTRAINT revocation_events_kind_check
                    CHECK (kind IN ('token', 'api_key', 'agent', 'signing_key', 'client', 'limits', 'quota'))
                """,
            ]
        ),
        (
            "v6 verifier registry",
            [
                """
                CREATE TABLE verifiers (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    agent_id TEXT NOT NULL,
                    cursor BIGINT NOT NULL,
                    last_seen DOUBLE PRECISION NOT NULL,
                    first_seen DOUBLE PRECISION NOT NULL,
                    bound_ms BIGINT NOT NULL
                )
                """,
                "CREATE INDEX verifiers_agent ON verifiers (agent_id, last_seen)",
            ]
        ),
    ]

    /// Applies pending migrations, in one transaction on `connection`.
    static func migrate(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.withTransaction(logger: logger) { connection in
            // One node migrates at a time; the lock ends with the transaction.
            try await connection.query("SELECT pg_advisory_xact_lock(424242)", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)",
                logger: logger
            )
            var applied = Set<String>()
            for try await name in try await connection.query("SELECT name FROM schema_migrations", logger: logger).decode(String.self) {
                applied.insert(name)
            }
            // Migrations only go forward: an older node must not write to a newer schema.
            let unknown = applied.subtracting(all.map(\.name))
            if !unknown.isEmpty { throw StoreError.newerSchema(unknown.sorted()) }
            for migration in all where !applied.contains(migration.name) {
                for statement in migration.sql {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                let name = migration.name
                try await connection.query(
                    "INSERT INTO schema_migrations (name, applied_at) VALUES (\(name), extract(epoch from now()))",
                    logger: logger
                )
            }
        }
    }
}
