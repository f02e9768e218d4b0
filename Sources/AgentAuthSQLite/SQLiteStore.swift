public import AgentAuthCore
public import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode, opened through a GRDB `DatabasePool`
/// (many concurrent readers, one writer). Every admin change is one write transaction.
public final class SQLiteStore: AgentAuthStore {
    let pool: DatabasePool
    /// Read-only connections for the lookups every request makes, read synchronously (`readOne`).
    /// Kept apart from `pool`: a synchronous read waiting for a connection that an async read
    /// holds while its task waits for a thread would deadlock; here no read ever suspends.
    let lookups: DatabasePool
    public let path: String

    /// Opens (creating if needed) the database at `path` and runs pending migrations. A new file is
    /// created readable by its owner only (0600): it holds the audit log and the sealed signing
    /// keys. SQLite gives its `-wal` and `-shm` files the database file's permissions.
    public init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw StoreError.unavailable("cannot create the SQLite database at \(path)")
            }
        }
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        // Wait for a competing writer (another process, e.g. the CLI next to a running server)
        // instead of failing at once.
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try SQLiteMigrations.migrator.migrate(pool)
            var lookupConfiguration = configuration
            lookupConfiguration.readonly = true
            // These reads run on the request's own thread: in SQLite's rare cases where a WAL
            // reader is told to wait (recovery after another process crashed), give up after
            // 100 ms with a 503 rather than hold one of two cores' threads for seconds.
            lookupConfiguration.busyMode = .timeout(0.1)
            lookups = try DatabasePool(path: path, configuration: lookupConfiguration)
        } catch {
            throw StoreError.unavailable("cannot open the SQLite database: \(Self.safeDescription(error))")
        }
        self.path = path
    }

    /// The journal mode in force; `wal` for every store this type opens.
    public func journalMode() async throws -> String {
        try await read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// Names of the migrations applied, oldest first.
    public func appliedMigrations() async throws -> [String] {
        try await read { db in try SQLiteMigrations.migrator.appliedMigrations(db) }
    }

    // MARK: Lifecycle

    public func ping() async throws {
        _ = try await read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    public func isInitialized() async throws -> Bool {
        try await read { db in try Self.isInitialized(db) }
    }

    public func initialize(admin: Agent, adminKey: APIKey, signingKey: SigningKey, audit: AuditRecord?) async throws -> Bool {
        try await write { db in
            guard try !Self.isInitialized(db) else { return false }
            try Self.insert(admin, db)
            try Self.insert(adminKey, db)
            if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM signing_keys") == 0 {
                try Self.insert(signingKey, db)
            }
            try db.execute(
                sql: "INSERT INTO settings (name, value) VALUES ('initialized_at', ?)",
                arguments: [String(Date().timeIntervalSince1970)]
            )
            try Self.append(audit, db)
            return true
        }
    }

    private static func isInitialized(_ db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM settings WHERE name = 'initialized_at')") ?? false
    }

    // MARK: Agents

    public func insertAgent(_ agent: Agent, audit: AuditRecord?) async throws {
        try await write { db in
            try Self.insert(agent, db)
            try Self.append(audit, db)
        }
    }

    public func agent(id: String) async throws -> Agent? {
        try readOne { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM agents WHERE id = ?"), arguments: [id]).map(Self.agent)
        }
    }

    public func agents(limit: Int, offset: Int) async throws -> [Agent] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM agents ORDER BY created_at, id LIMIT ? OFFSET ?", arguments: [limit, offset])
                .map(Self.agent)
        }
    }

    public func setAgentStatus(id: String, status: Agent.Status, at: Date, audit: AuditRecord?) async throws -> Agent? {
        try await write { db in
            if status == .disabled {
                try db.execute(
                    sql: "UPDATE agents SET status = ?, disabled_at = MAX(COALESCE(disabled_at, 0), ?) WHERE id = ?",
                    arguments: [status.rawValue, at.timeIntervalSince1970, id]
                )
                if db.changesCount > 0 {
                    try Self.insert(RevocationEvent(kind: .agent, subject: id, agentID: id, at: at), db)
                }
            } else {
                try db.execute(sql: "UPDATE agents SET status = ? WHERE id = ?", arguments: [status.rawValue, id])
            }
            guard let agent = try Row.fetchOne(db, sql: "SELECT * FROM agents WHERE id = ?", arguments: [id]).map(Self.agent) else { return nil }
            try Self.append(audit, db)
            return agent
        }
    }

    public func setDelegationPolicy(agentID: String, mayAct: [String]?, audit: AuditRecord?) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "UPDATE agents SET may_act = ? WHERE id = ?", arguments: [try mayAct.map(Self.json), agentID])
            guard db.changesCount > 0 else { return false }
            try Self.append(audit, db)
            return true
        }
    }

    public func delegationPolicy(agentID: String) async throws -> [String]? {
        try await read { db in
            guard let text = try String.fetchOne(db, sql: "SELECT may_act FROM agents WHERE id = ?", arguments: [agentID]) else { return nil }
            // An unreadable policy allows nobody: fail closed.
            return (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
        }
    }

    // MARK: API keys

    public func insertAPIKey(_ key: APIKey, audit: AuditRecord?) async throws {
        try await write { db in
            try Self.insert(key, db)
            try Self.append(audit, db)
        }
    }

    public func apiKey(id: String) async throws -> APIKey? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE id = ?", arguments: [id]).map(Self.apiKey)
        }
    }

    public func apiKeys(agentID: String) async throws -> [APIKey] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_keys WHERE agent_id = ? ORDER BY created_at, id", arguments: [agentID])
                .map(Self.apiKey)
        }
    }

    public func apiKeyWithAgent(hash: String) async throws -> (key: APIKey, agent: Agent)? {
        try readOne { db in
            let sql = "SELECT k.*, \(Self.joinedAgentColumns) FROM api_keys k JOIN agents a ON a.id = k.agent_id WHERE k.key_hash = ?"
            guard let row = try Row.fetchOne(db.cachedStatement(sql: sql), arguments: [hash]) else { return nil }
            return (try Self.apiKey(row), Self.joinedAgent(row))
        }
    }

    public func revokeAPIKey(id: String, at: Date, audit: AuditRecord?) async throws -> APIKey? {
        try await write { db in
            try db.execute(
                sql: "UPDATE api_keys SET status = 'revoked', revoked_at = ? WHERE id = ? AND status <> 'revoked'",
                arguments: [at.timeIntervalSince1970, id]
            )
            if db.changesCount > 0, let agentID = try String.fetchOne(db, sql: "SELECT agent_id FROM api_keys WHERE id = ?", arguments: [id]) {
                try Self.insert(RevocationEvent(kind: .apiKey, subject: id, agentID: agentID, at: at), db)
            }
            guard let key = try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE id = ?", arguments: [id]).map(Self.apiKey) else { return nil }
            try Self.append(audit, db)
            return key
        }
    }

    public func rollAPIKey(id: String, replacement: APIKey, graceUntil: Date, at: Date, audit: AuditRecord?) async throws -> APIKey {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE id = ?", arguments: [id]) else {
                throw StoreError.notFound("no such key")
            }
            let old = try Self.apiKey(row)
            guard old.status == .active else { throw StoreError.conflict("the key is revoked") }
            guard !old.isExpired(at: at) else { throw StoreError.conflict("the key has expired") }
            guard old.replacedBy == nil else { throw StoreError.conflict("the key was already rolled") }
            try Self.insert(replacement, db)
            let expiry = min(old.expiresAt ?? graceUntil, graceUntil)
            try db.execute(
                sql: "UPDATE api_keys SET expires_at = ?, replaced_by = ? WHERE id = ?",
                arguments: [expiry.timeIntervalSince1970, replacement.id, id]
            )
            // Its life was shortened: verifiers must drop cached results so the new expiry applies.
            try Self.insert(RevocationEvent(kind: .apiKey, subject: id, agentID: old.agentID, at: at), db)
            try Self.append(audit, db)
            return try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE id = ?", arguments: [id]).map(Self.apiKey)!
        }
    }

    public func recordAPIKeyUsage(_ usage: [String: Date]) async throws {
        guard !usage.isEmpty else { return }
        try await write { db in
            let statement = try db.makeStatement(
                sql: "UPDATE api_keys SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE id = ?"
            )
            for (id, date) in usage {
                try statement.execute(arguments: [date.timeIntervalSince1970, id])
            }
        }
    }

    // MARK: OAuth clients

    public func insertClient(_ client: OAuthClient, audit: AuditRecord?) async throws {
        try await write { db in
            try Self.insert(client, db)
            try Self.append(audit, db)
        }
    }

    public func client(id: String) async throws -> OAuthClient? {
        try readOne { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM oauth_clients WHERE client_id = ?"), arguments: [id]).map(Self.client)
        }
    }

    public func clientWithAgent(id: String) async throws -> (client: OAuthClient, agent: Agent)? {
        try readOne { db in
            let sql = "SELECT c.*, \(Self.joinedAgentColumns) FROM oauth_clients c JOIN agents a ON a.id = c.agent_id WHERE c.client_id = ?"
            guard let row = try Row.fetchOne(db.cachedStatement(sql: sql), arguments: [id]) else { return nil }
            return (try Self.client(row), Self.joinedAgent(row))
        }
    }

    public func clients(agentID: String) async throws -> [OAuthClient] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM oauth_clients WHERE agent_id = ? ORDER BY created_at, client_id", arguments: [agentID])
                .map(Self.client)
        }
    }

    public func rotateClientSecret(id: String, newSecretHash: String, previousValidUntil: Date, audit: AuditRecord?) async throws -> OAuthClient? {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE oauth_clients SET previous_secret_hash = secret_hash, previous_secret_expires_at = ?, secret_hash = ?
                    WHERE client_id = ?
                    """,
                arguments: [previousValidUntil.timeIntervalSince1970, newSecretHash, id]
            )
            guard db.changesCount > 0 else { return nil }
            try Self.append(audit, db)
            return try Row.fetchOne(db, sql: "SELECT * FROM oauth_clients WHERE client_id = ?", arguments: [id]).map(Self.client)
        }
    }

    public func maxClientTokenTTL() async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(token_ttl), 0) FROM oauth_clients") ?? 0 }
    }

    public func recordAssertionID(_ jti: String, clientID: String, expiresAt: Date, now: Date) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM assertion_ids WHERE expires_at <= ?", arguments: [now.timeIntervalSince1970])
            try db.execute(
                sql: "INSERT OR IGNORE INTO assertion_ids (client_id, jti, expires_at) VALUES (?, ?, ?)",
                arguments: [clientID, jti, expiresAt.timeIntervalSince1970]
            )
            return db.changesCount == 1
        }
    }

    // MARK: Signing keys

    public func insertSigningKey(_ key: SigningKey) async throws {
        try await write { db in try Self.insert(key, db) }
    }

    public func signingKeys() async throws -> [SigningKey] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM signing_keys ORDER BY created_at, kid").map(Self.signingKey)
        }
    }

    public func rotateSigningKey(to newKey: SigningKey, retiredAt: Date, publishedUntil: Date, audit: AuditRecord?) async throws {
        try await write { db in
            let retiring = try String.fetchAll(db, sql: "SELECT kid FROM signing_keys WHERE status = 'active'")
            // A hand-over of an earlier rotation still to come: the latest rotation decides.
            try db.execute(
                sql: "UPDATE signing_keys SET retired_at = ? WHERE status = 'retired' AND retired_at > ?",
                arguments: [retiredAt.timeIntervalSince1970, retiredAt.timeIntervalSince1970]
            )
            try db.execute(
                sql: "UPDATE signing_keys SET status = 'retired', retired_at = ?, published_until = ? WHERE status = 'active'",
                arguments: [retiredAt.timeIntervalSince1970, publishedUntil.timeIntervalSince1970]
            )
            try Self.insert(newKey, db)
            try Self.insert(RevocationEvent(kind: .signingKey, subject: newKey.kid, agentID: nil, at: retiredAt), db)
            for kid in retiring {
                try Self.insert(RevocationEvent(kind: .signingKey, subject: kid, agentID: nil, at: retiredAt, expiresAt: publishedUntil), db)
            }
            try Self.append(audit, db)
        }
    }

    // MARK: Revocations

    public func revokeToken(jti: String, agentID: String, expiresAt: Date, at: Date, audit: AuditRecord?) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO revocation_events (kind, subject, agent_id, at, expires_at) VALUES ('token', ?, ?, ?, ?)",
                arguments: [jti, agentID, at.timeIntervalSince1970, expiresAt.timeIntervalSince1970]
            )
            guard db.changesCount == 1 else { return false }
            try Self.append(audit, db)
            return true
        }
    }

    public func revocations(after cursor: Int64, limit: Int) async throws -> [RevocationEvent] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM revocation_events WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [cursor, limit]).map { row in
                let kind: String = row["kind"]
                return RevocationEvent(
                    seq: row["seq"],
                    kind: RevocationEvent.Kind(rawValue: kind) ?? .token,
                    subject: row["subject"],
                    agentID: row["agent_id"],
                    at: Self.date(row["at"])!,
                    expiresAt: Self.date(row["expires_at"])
                )
            }
        }
    }

    public func revocationBounds() async throws -> (oldest: Int64, latest: Int64) {
        try await read { db in
            // One aggregate per subquery: SQLite answers a lone MIN or MAX of the rowid from the
            // b-tree's ends, but MIN and MAX together in one SELECT scan the whole table, which
            // took ~90 ms with a million revoked tokens, every 100 ms (the revocation sync).
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT COALESCE((SELECT MIN(seq) FROM revocation_events), 0) AS oldest,
                           COALESCE((SELECT MAX(seq) FROM revocation_events), 0) AS latest
                    """
            )
            let sequence = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'revocation_events'") ?? 0
            return (row?["oldest"] ?? 0, max(row?["latest"] ?? 0, sequence))
        }
    }

    public func pruneRevocations(expiredBefore: Date, olderThan: Date) async throws {
        try await write { db in
            try db.execute(
                sql: "DELETE FROM revocation_events WHERE (kind = 'token' AND expires_at < ?) OR (kind <> 'token' AND at < ?)",
                arguments: [expiredBefore.timeIntervalSince1970, olderThan.timeIntervalSince1970]
            )
        }
    }

    // MARK: Audit

    public func appendAudit(_ events: [AuditEvent], key: AuditChainKey) async throws {
        guard !events.isEmpty else { return }
        try await write { db in try Self.append(AuditRecord(events: events, key: key), db) }
    }

    /// Appends `audit`'s events after the chain's last one, inside the caller's write transaction.
    private static func append(_ audit: AuditRecord?, _ db: Database) throws {
        guard let audit, !audit.events.isEmpty else { return }
        let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
        let previous: (seq: Int64, hash: String)? = last.map { ($0["seq"], $0["hash"]) }
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO audit_events (seq, time, type, agent_id, credential_id, client_address, request_id, outcome, details, previous_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        for event in AuditChain.link(audit.events, after: previous, key: audit.key) {
            try statement.execute(arguments: [
                event.seq, event.time.timeIntervalSince1970, event.type.rawValue, event.agentID, event.credentialID, event.clientAddress,
                event.requestID, event.outcome.rawValue, try Self.json(event.details), event.previousHash, event.hash,
            ])
        }
    }

    public func auditEvents(_ filter: AuditFilter) async throws -> [AuditEvent] {
        try await read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let agentID = filter.agentID {
                conditions.append("agent_id = ?")
                _ = arguments.append(contentsOf: [agentID])
            }
            if let type = filter.type {
                conditions.append("type = ?")
                _ = arguments.append(contentsOf: [type.rawValue])
            }
            if let since = filter.since {
                conditions.append("time >= ?")
                _ = arguments.append(contentsOf: [since.timeIntervalSince1970])
            }
            _ = arguments.append(contentsOf: [filter.limit])
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try Row.fetchAll(db, sql: "SELECT * FROM audit_events \(whereClause) ORDER BY seq DESC LIMIT ?", arguments: arguments)
                .map(Self.auditEvent)
        }
    }

    public func auditChain() async throws -> [AuditEvent] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM audit_events ORDER BY seq").map(Self.auditEvent) }
    }

    /// For tamper tests and forensics only: runs raw SQL against the database.
    public func unsafeExecute(_ sql: String) async throws {
        try await write { db in try db.execute(sql: sql) }
    }

    // MARK: Rows

    private static func insert(_ agent: Agent, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO agents (id, name, status, created_at, disabled_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [agent.id, agent.name, agent.status.rawValue, agent.createdAt.timeIntervalSince1970, agent.disabledAt?.timeIntervalSince1970]
        )
    }

    private static func insert(_ key: APIKey, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO api_keys (id, agent_id, name, key_hash, display, scopes, rate_limit, status,
                                      created_at, expires_at, revoked_at, last_used_at, replaced_by)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                key.id, key.agentID, key.name, key.keyHash, key.display, key.scopes.description, key.rateLimit.rawValue,
                key.status.rawValue, key.createdAt.timeIntervalSince1970, key.expiresAt?.timeIntervalSince1970,
                key.revokedAt?.timeIntervalSince1970, key.lastUsedAt?.timeIntervalSince1970, key.replacedBy,
            ]
        )
    }

    private static func insert(_ client: OAuthClient, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO oauth_clients (client_id, agent_id, scopes, audiences, token_ttl, grant_types, auth_method, jwks,
                                           secret_hash, previous_secret_hash, previous_secret_expires_at, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                client.clientID, client.agentID, client.scopes.description, try Self.json(client.audiences), client.tokenTTL,
                client.grantTypes.map(\.rawValue).sorted().joined(separator: " "), client.authMethod.rawValue, client.jwks,
                client.secretHash, client.previousSecretHash, client.previousSecretExpiresAt?.timeIntervalSince1970,
                client.createdAt.timeIntervalSince1970,
            ]
        )
    }

    private static func insert(_ key: SigningKey, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO signing_keys (kid, algorithm, public_jwk, sealed_private_key, status, created_at, retired_at, published_until)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                key.kid, key.algorithm.rawValue, key.publicJWK, key.sealedPrivateKey, key.status.rawValue, key.createdAt.timeIntervalSince1970,
                key.retiredAt?.timeIntervalSince1970, key.publishedUntil?.timeIntervalSince1970,
            ]
        )
    }

    private static func client(_ row: Row) throws -> OAuthClient {
        let scopeString: String = row["scopes"]
        let audiences: String = row["audiences"]
        let grants: String = row["grant_types"]
        return OAuthClient(
            clientID: row["client_id"],
            agentID: row["agent_id"],
            scopes: (try? ScopeSet(parsing: scopeString)) ?? ScopeSet(),
            audiences: (try? jsonDecoder.decode([String].self, from: Data(audiences.utf8))) ?? [],
            tokenTTL: row["token_ttl"],
            grantTypes: Set(grants.split(separator: " ").compactMap { GrantType(rawValue: String($0)) }),
            // An unknown method authenticates nobody: fail closed.
            authMethod: ClientAuthMethod(rawValue: row["auth_method"]) ?? .privateKeyJWT,
            jwks: row["jwks"],
            secretHash: row["secret_hash"],
            previousSecretHash: row["previous_secret_hash"],
            previousSecretExpiresAt: date(row["previous_secret_expires_at"]),
            createdAt: date(row["created_at"])!
        )
    }

    private static func signingKey(_ row: Row) throws -> SigningKey {
        let algorithm: String = row["algorithm"]
        guard let parsed = SigningAlgorithm(rawValue: algorithm) else { throw StoreError.unavailable("unknown signing algorithm in the store") }
        return SigningKey(
            kid: row["kid"],
            algorithm: parsed,
            publicJWK: row["public_jwk"],
            sealedPrivateKey: row["sealed_private_key"],
            status: SigningKey.Status(rawValue: row["status"]) ?? .retired,
            createdAt: date(row["created_at"])!,
            retiredAt: date(row["retired_at"]),
            publishedUntil: date(row["published_until"])
        )
    }

    private static func insert(_ event: RevocationEvent, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO revocation_events (kind, subject, agent_id, at, expires_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [event.kind.rawValue, event.subject, event.agentID, event.at.timeIntervalSince1970, event.expiresAt?.timeIntervalSince1970]
        )
    }

    private static func auditEvent(_ row: Row) throws -> AuditEvent {
        let details: String = row["details"]
        var event = AuditEvent(
            time: date(row["time"])!,
            type: AuditEventType(rawValue: row["type"]),
            agentID: row["agent_id"],
            credentialID: row["credential_id"],
            clientAddress: row["client_address"],
            requestID: row["request_id"],
            outcome: AuditEvent.Outcome(rawValue: row["outcome"]) ?? .failure,
            details: (try? JSONDecoder().decode([String: String].self, from: Data(details.utf8))) ?? [:]
        )
        event.seq = row["seq"]
        event.previousHash = row["previous_hash"]
        event.hash = row["hash"]
        return event
    }

    private static func json(_ value: [String: String]) throws -> String {
        String(decoding: try jsonEncoder.encode(value), as: UTF8.self)
    }

    private static func json(_ value: [String]) throws -> String {
        String(decoding: try jsonEncoder.encode(value), as: UTF8.self)
    }

    /// Made once: a client row is read on every token request and an audit row written per token.
    private static let jsonEncoder = JSONEncoder()
    private static let jsonDecoder = JSONDecoder()

    private static func agent(_ row: Row) throws -> Agent {
        Agent(
            id: row["id"],
            name: row["name"],
            status: Agent.Status(rawValue: row["status"]) ?? .disabled,
            createdAt: date(row["created_at"])!,
            disabledAt: date(row["disabled_at"])
        )
    }

    /// The agent columns of a row joined as `a_id`, `a_name`, … (key or client with its agent).
    /// The agent's columns in a join (`agents a`), under the names `joinedAgent` reads.
    private static let joinedAgentColumns =
        "a.id AS a_id, a.name AS a_name, a.status AS a_status, a.created_at AS a_created_at, a.disabled_at AS a_disabled_at"

    private static func joinedAgent(_ row: Row) -> Agent {
        Agent(
            id: row["a_id"],
            name: row["a_name"],
            status: Agent.Status(rawValue: row["a_status"]) ?? .disabled,
            createdAt: date(row["a_created_at"])!,
            disabledAt: date(row["a_disabled_at"])
        )
    }

    private static func apiKey(_ row: Row) throws -> APIKey {
        let scopeString: String = row["scopes"]
        return APIKey(
            id: row["id"],
            agentID: row["agent_id"],
            name: row["name"],
            keyHash: row["key_hash"],
            display: row["display"],
            // Stored scopes were validated on the way in; an unreadable list grants nothing.
            scopes: (try? ScopeSet(parsing: scopeString)) ?? ScopeSet(),
            rateLimit: RateLimitTier(rawValue: row["rate_limit"]) ?? .standard,
            // An unknown status is treated as revoked: fail closed.
            status: APIKey.Status(rawValue: row["status"]) ?? .revoked,
            createdAt: date(row["created_at"])!,
            expiresAt: date(row["expires_at"]),
            revokedAt: date(row["revoked_at"]),
            lastUsedAt: date(row["last_used_at"]),
            replacedBy: row["replaced_by"]
        )
    }

    private static func date(_ seconds: Double?) -> Date? {
        seconds.map(Date.init(timeIntervalSince1970:))
    }

    // MARK: Access and error mapping

    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// A read of one SELECT statement, for the lookups every request makes (keys, clients, agents).
    /// It runs outside a transaction (a single statement already sees one consistent snapshot;
    /// BEGIN and COMMIT would cost as much as the lookup), with a cached prepared statement, and
    /// on the calling thread, from `lookups`: an indexed read of one row from a WAL database, where
    /// readers never wait for the writer, costs less than the two thread hops of GRDB's async
    /// read, which were the largest single cost of a token request.
    private func readOne<T: Sendable>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try lookups.unsafeRead(body)
        } catch {
            throw Self.storeError(error)
        }
    }

    private func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch {
            throw Self.storeError(error)
        }
    }

    static func storeError(_ error: any Error) -> any Error {
        if error is StoreError { return error }
        guard let error = error as? DatabaseError else { return StoreError.unavailable("database error") }
        switch error.extendedResultCode {
        case .SQLITE_CONSTRAINT_FOREIGNKEY:
            return StoreError.notFound("a referenced record does not exist")
        case .SQLITE_CONSTRAINT_UNIQUE, .SQLITE_CONSTRAINT_PRIMARYKEY:
            return StoreError.conflict("a record with this identity already exists")
        default:
            return StoreError.unavailable("database error (\(error.resultCode))")
        }
    }

    static func safeDescription(_ error: any Error) -> String {
        (error as? DatabaseError).map { "\($0.resultCode)" } ?? "\(type(of: error))"
    }
}
