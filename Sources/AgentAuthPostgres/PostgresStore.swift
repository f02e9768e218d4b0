public import AgentAuthCore
public import Foundation
public import Logging
import PostgresNIO

/// The distributed store: PostgreSQL through PostgresNIO's pooled `PostgresClient`. Any number
/// of stateless nodes share one database. Every admin change is one transaction. Passes the same
/// conformance suite as `SQLiteStore`.
public final class PostgresStore: AgentAuthStore, StoreChangeNotifier {
    let client: PostgresClient
    let logger: Logger
    let configuration: PostgresClient.Configuration
    private let runner: Task<Void, Never>
    let listener: PostgresChangeListener

    /// Connects (the pool connects lazily) and applies pending migrations.
    /// - Parameter url: `postgres://user:password@host:port/database` (`postgresql://` too).
    public init(url: String, logger: Logger = Logger(label: "agentauth.postgres")) async throws {
        guard let configuration = Self.configuration(url) else {
            throw StoreError.unavailable("the PostgreSQL URL must look like postgres://user:password@host:port/database")
        }
        // One direct connection first, so an unreachable server or a bad login fails at once
        // (the pool would keep retrying in the background).
        do {
            let probe = try await PostgresConnection.connect(
                configuration: configuration.singleConnection,
                id: 0,
                logger: logger
            )
            try await probe.close()
        } catch {
            throw StoreError.unavailable("cannot connect to PostgreSQL: \(Self.safeDescription(error))")
        }
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.logger = logger
        self.configuration = configuration
        listener = PostgresChangeListener(configuration: configuration, logger: logger)
        runner = Task { await client.run() }
        do {
            try await PostgresMigrations.migrate(client, logger: logger)
        } catch {
            runner.cancel()
            throw StoreError.unavailable("cannot migrate the PostgreSQL database: \(Self.safeDescription(error))")
        }
    }

    /// Closes the pool and the notification listener.
    public func shutdown() {
        runner.cancel()
        listener.stop()
    }

    deinit {
        runner.cancel()
        listener.stop()
    }

    public func changes() -> AsyncStream<StoreChange> {
        listener.subscribe()
    }

    /// Tells every node (at commit) that something changed; called inside the writing transaction.
    static func notify(_ change: StoreChange, _ connection: PostgresConnection, _ logger: Logger) async throws {
        let payload = change.rawValue
        try await connection.query("SELECT pg_notify(\(PostgresChangeListener.channel), \(payload))", logger: logger)
    }

    static func configuration(_ text: String) -> PostgresClient.Configuration? {
        guard let components = URLComponents(string: text), ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host, let user = components.user
        else { return nil }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : nil
        var configuration = PostgresClient.Configuration(
            host: host,
            port: components.port ?? 5432,
            username: user,
            password: components.password,
            database: database?.isEmpty == false ? database : nil,
            tls: .disable
        )
        configuration.options.connectTimeout = .seconds(2)
        return configuration
    }

    // MARK: Error mapping

    /// How long one store operation may take before it is reported unavailable. While the
    /// database is down the pool would otherwise wait for a connection indefinitely, and
    /// requests must get their 503 instead of hanging.
    static let operationTimeout: Duration = .seconds(5)

    /// Runs `body` with the operation timeout, mapping engine errors to `StoreError` (never an
    /// engine message with data in it).
    func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
            return try await withThrowingTaskGroup(of: T.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    try await Task.sleep(for: Self.operationTimeout)
                    throw StoreError.unavailable("the database did not answer in time")
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    static func storeError(_ error: any Error) -> any Error {
        switch error {
        case let error as StoreError:
            return error
        case let error as PostgresTransactionError:
            // What went wrong is the closure's (or BEGIN's, or COMMIT's) error.
            return storeError(error.closureError ?? error.beginError ?? error.commitError ?? StoreError.unavailable("transaction failed"))
        case let error as PSQLError:
            switch error.serverInfo?[.sqlState] {
            case "23503": return StoreError.notFound("a referenced record does not exist")
            case "23505": return StoreError.conflict("a record with this identity already exists")
            default: return StoreError.unavailable("database error (\(error.serverInfo?[.sqlState] ?? error.code.description))")
            }
        default:
            return StoreError.unavailable("database error (\(type(of: error)))")
        }
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await run { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        }
    }

    static func safeDescription(_ error: any Error) -> String {
        (error as? PSQLError).map { "\($0.serverInfo?[.sqlState] ?? $0.code.description)" } ?? "\(type(of: error))"
    }

    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await run { [client, logger] in try await client.query(query, logger: logger).collect().map { $0.makeRandomAccess() } }
    }

    static func rows(_ connection: PostgresConnection, _ query: PostgresQuery, logger: Logger) async throws -> [PostgresRandomAccessRow] {
        try await connection.query(query, logger: logger).collect().map { $0.makeRandomAccess() }
    }

    // MARK: Lifecycle

    public func ping() async throws {
        _ = try await rows("SELECT 1")
    }

    public func isInitialized() async throws -> Bool {
        try await !rows("SELECT 1 FROM settings WHERE name = 'initialized_at'").isEmpty
    }

    public func initialize(admin: Agent, adminKey: APIKey, signingKey: SigningKey, audit: AuditRecord?) async throws -> Bool {
        try await transaction { [logger] connection in
            try await connection.query("LOCK TABLE settings IN EXCLUSIVE MODE", logger: logger)
            guard try await Self.rows(connection, "SELECT 1 FROM settings WHERE name = 'initialized_at'", logger: logger).isEmpty else {
                return false
            }
            try await Self.insert(admin, connection, logger)
            try await Self.insert(adminKey, connection, logger)
            if try await Self.rows(connection, "SELECT 1 FROM signing_keys LIMIT 1", logger: logger).isEmpty {
                try await Self.insert(signingKey, connection, logger)
            }
            let now = String(Date().timeIntervalSince1970)
            try await connection.query("INSERT INTO settings (name, value) VALUES ('initialized_at', \(now))", logger: logger)
            try await Self.append(audit, connection, logger)
            return true
        }
    }

    // MARK: Agents

    public func insertAgent(_ agent: Agent, audit: AuditRecord?) async throws {
        try await transaction { [logger] connection in
            try await Self.insert(agent, connection, logger)
            try await Self.append(audit, connection, logger)
        }
    }

    public func agent(id: String) async throws -> Agent? {
        try await rows("SELECT * FROM agents WHERE id = \(id)").first.map(Self.agent)
    }

    public func agents(limit: Int, offset: Int) async throws -> [Agent] {
        try await rows("SELECT * FROM agents ORDER BY created_at, id LIMIT \(limit) OFFSET \(offset)").map(Self.agent)
    }

    public func setAgentStatus(id: String, status: Agent.Status, at: Date, audit: AuditRecord?) async throws -> Agent? {
        try await transaction { [logger] connection in
            let seconds = at.timeIntervalSince1970
            let raw = status.rawValue
            if status == .disabled {
                let updated = try await Self.rows(
                    connection,
                    "UPDATE agents SET status = \(raw), disabled_at = GREATEST(COALESCE(disabled_at, 0), \(seconds)) WHERE id = \(id) RETURNING id",
                    logger: logger
                )
                if !updated.isEmpty {
                    try await Self.insert(RevocationEvent(kind: .agent, subject: id, agentID: id, at: at), connection, logger)
                    try await Self.notify(.revocation, connection, logger)
                }
            } else {
                try await connection.query("UPDATE agents SET status = \(raw) WHERE id = \(id)", logger: logger)
            }
            guard let agent = try await Self.rows(connection, "SELECT * FROM agents WHERE id = \(id)", logger: logger).first.map(Self.agent) else {
                return nil
            }
            try await Self.append(audit, connection, logger)
            return agent
        }
    }

    public func setDelegationPolicy(agentID: String, mayAct: [String]?, audit: AuditRecord?) async throws -> Bool {
        let text = try mayAct.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        return try await transaction { [logger] connection in
            guard try await !Self.rows(connection, "UPDATE agents SET may_act = \(text) WHERE id = \(agentID) RETURNING id", logger: logger).isEmpty
            else { return false }
            try await Self.append(audit, connection, logger)
            return true
        }
    }

    public func delegationPolicy(agentID: String) async throws -> [String]? {
        guard let row = try await rows("SELECT may_act FROM agents WHERE id = \(agentID)").first,
            let text = try row["may_act"].decode(String?.self)
        else { return nil }
        return (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
    }

    // MARK: API keys

    public func insertAPIKey(_ key: APIKey, audit: AuditRecord?) async throws {
        try await transaction { [logger] connection in
            try await Self.insert(key, connection, logger)
            try await Self.append(audit, connection, logger)
        }
    }

    public func apiKey(id: String) async throws -> APIKey? {
        try await rows("SELECT * FROM api_keys WHERE id = \(id)").first.map(Self.apiKey)
    }

    public func apiKeys(agentID: String) async throws -> [APIKey] {
        try await rows("SELECT * FROM api_keys WHERE agent_id = \(agentID) ORDER BY created_at, id").map(Self.apiKey)
    }

    public func apiKeyWithAgent(hash: String) async throws -> (key: APIKey, agent: Agent)? {
        let query: PostgresQuery = """
            SELECT k.*, a.id AS a_id, a.name AS a_name, a.status AS a_status, a.created_at AS a_created_at, a.disabled_at AS a_disabled_at
            FROM api_keys k JOIN agents a ON a.id = k.agent_id WHERE k.key_hash = \(hash)
            """
        guard let row = try await rows(query).first else { return nil }
        let agent = Agent(
            id: try row["a_id"].decode(String.self),
            name: try row["a_name"].decode(String.self),
            status: Agent.Status(rawValue: try row["a_status"].decode(String.self)) ?? .disabled,
            createdAt: Date(timeIntervalSince1970: try row["a_created_at"].decode(Double.self)),
            disabledAt: try row["a_disabled_at"].decode(Double?.self).map(Date.init(timeIntervalSince1970:))
        )
        return (try Self.apiKey(row), agent)
    }

    public func revokeAPIKey(id: String, at: Date, audit: AuditRecord?) async throws -> APIKey? {
        try await transaction { [logger] connection in
            let seconds = at.timeIntervalSince1970
            let updated = try await Self.rows(
                connection,
                "UPDATE api_keys SET status = 'revoked', revoked_at = \(seconds) WHERE id = \(id) AND status <> 'revoked' RETURNING agent_id",
                logger: logger
            )
            if let row = updated.first {
                let agentID = try row["agent_id"].decode(String.self)
                try await Self.insert(RevocationEvent(kind: .apiKey, subject: id, agentID: agentID, at: at), connection, logger)
                try await Self.notify(.revocation, connection, logger)
            }
            guard let key = try await Self.rows(connection, "SELECT * FROM api_keys WHERE id = \(id)", logger: logger).first.map(Self.apiKey) else {
                return nil
            }
            try await Self.append(audit, connection, logger)
            return key
        }
    }

    public func rollAPIKey(id: String, replacement: APIKey, graceUntil: Date, at: Date, audit: AuditRecord?) async throws -> APIKey {
        try await transaction { [logger] connection in
            guard let row = try await Self.rows(connection, "SELECT * FROM api_keys WHERE id = \(id) FOR UPDATE", logger: logger).first else {
                throw StoreError.notFound("no such key")
            }
            let old = try Self.apiKey(row)
            guard old.status == .active else { throw StoreError.conflict("the key is revoked") }
            guard !old.isExpired(at: at) else { throw StoreError.conflict("the key has expired") }
            guard old.replacedBy == nil else { throw StoreError.conflict("the key was already rolled") }
            try await Self.insert(replacement, connection, logger)
            let expiry = min(old.expiresAt ?? graceUntil, graceUntil).timeIntervalSince1970
            let replacementID = replacement.id
            try await connection.query("UPDATE api_keys SET expires_at = \(expiry), replaced_by = \(replacementID) WHERE id = \(id)", logger: logger)
            try await Self.insert(RevocationEvent(kind: .apiKey, subject: id, agentID: old.agentID, at: at), connection, logger)
            try await Self.notify(.revocation, connection, logger)
            try await Self.append(audit, connection, logger)
            return try Self.apiKey(try await Self.rows(connection, "SELECT * FROM api_keys WHERE id = \(id)", logger: logger)[0])
        }
    }

    public func recordAPIKeyUsage(_ usage: [String: Date]) async throws {
        guard !usage.isEmpty else { return }
        try await transaction { [logger] connection in
            for (id, date) in usage.sorted(by: { $0.key < $1.key }) {
                let seconds = date.timeIntervalSince1970
                try await connection.query(
                    "UPDATE api_keys SET last_used_at = GREATEST(COALESCE(last_used_at, 0), \(seconds)) WHERE id = \(id)",
                    logger: logger
                )
            }
        }
    }

    // MARK: OAuth clients

    public func insertClient(_ client: OAuthClient, audit: AuditRecord?) async throws {
        try await transaction { [logger] connection in
            try await Self.insert(client, connection, logger)
            try await Self.append(audit, connection, logger)
        }
    }

    public func client(id: String) async throws -> OAuthClient? {
        try await rows("SELECT * FROM oauth_clients WHERE client_id = \(id)").first.map(Self.client)
    }

    public func clients(agentID: String) async throws -> [OAuthClient] {
        try await rows("SELECT * FROM oauth_clients WHERE agent_id = \(agentID) ORDER BY created_at, client_id").map(Self.client)
    }

    public func rotateClientSecret(id: String, newSecretHash: String, previousValidUntil: Date, audit: AuditRecord?) async throws -> OAuthClient? {
        let until = previousValidUntil.timeIntervalSince1970
        return try await transaction { [logger] connection in
            let updated = try await Self.rows(
                connection,
                """
                UPDATE oauth_clients SET previous_secret_hash = secret_hash, previous_secret_expires_at = \(until), secret_hash = \(newSecretHash)
                WHERE client_id = \(id) RETURNING *
                """,
                logger: logger
            )
            guard let client = try updated.first.map(Self.client) else { return nil }
            try await Self.append(audit, connection, logger)
            return client
        }
    }

    public func maxClientTokenTTL() async throws -> Int {
        try await rows("SELECT COALESCE(MAX(token_ttl), 0) AS ttl FROM oauth_clients").first.map { try $0["ttl"].decode(Int.self) } ?? 0
    }

    public func recordAssertionID(_ jti: String, clientID: String, expiresAt: Date, now: Date) async throws -> Bool {
        try await transaction { [logger] connection in
            let nowSeconds = now.timeIntervalSince1970
            let expiry = expiresAt.timeIntervalSince1970
            try await connection.query("DELETE FROM assertion_ids WHERE expires_at <= \(nowSeconds)", logger: logger)
            let inserted = try await Self.rows(
                connection,
                "INSERT INTO assertion_ids (client_id, jti, expires_at) VALUES (\(clientID), \(jti), \(expiry)) ON CONFLICT DO NOTHING RETURNING jti",
                logger: logger
            )
            return !inserted.isEmpty
        }
    }

    // MARK: Signing keys

    public func insertSigningKey(_ key: SigningKey) async throws {
        try await transaction { [logger] connection in try await Self.insert(key, connection, logger) }
    }

    public func signingKeys() async throws -> [SigningKey] {
        try await rows("SELECT * FROM signing_keys ORDER BY created_at, kid").map(Self.signingKey)
    }

    public func rotateSigningKey(to newKey: SigningKey, retiredAt: Date, publishedUntil: Date, audit: AuditRecord?) async throws {
        try await transaction { [logger] connection in
            let retired = retiredAt.timeIntervalSince1970
            let until = publishedUntil.timeIntervalSince1970
            // A hand-over of an earlier rotation still to come: the latest rotation decides.
            try await connection.query(
                "UPDATE signing_keys SET retired_at = \(retired) WHERE status = 'retired' AND retired_at > \(retired)",
                logger: logger
            )
            let retiring = try await Self.rows(
                connection,
                "UPDATE signing_keys SET status = 'retired', retired_at = \(retired), published_until = \(until) WHERE status = 'active' RETURNING kid",
                logger: logger
            )
            try await Self.insert(newKey, connection, logger)
            try await Self.insert(RevocationEvent(kind: .signingKey, subject: newKey.kid, agentID: nil, at: retiredAt), connection, logger)
            for row in retiring {
                let kid = try row["kid"].decode(String.self)
                try await Self.insert(
                    RevocationEvent(kind: .signingKey, subject: kid, agentID: nil, at: retiredAt, expiresAt: publishedUntil),
                    connection,
                    logger
                )
            }
            try await Self.notify(.signingKey, connection, logger)
            try await Self.append(audit, connection, logger)
        }
    }

    // MARK: Revocations

    public func revokeToken(jti: String, agentID: String, expiresAt: Date, at: Date, audit: AuditRecord?) async throws -> Bool {
        let seconds = at.timeIntervalSince1970
        let expiry = expiresAt.timeIntervalSince1970
        return try await transaction { [logger] connection in
            let inserted = try await Self.rows(
                connection,
                """
                INSERT INTO revocation_events (kind, subject, agent_id, at, expires_at) VALUES ('token', \(jti), \(agentID), \(seconds), \(expiry))
                ON CONFLICT DO NOTHING RETURNING seq
                """,
                logger: logger
            )
            guard !inserted.isEmpty else { return false }
            try await Self.notify(.revocation, connection, logger)
            try await Self.append(audit, connection, logger)
            return true
        }
    }

    public func revocations(after cursor: Int64, limit: Int) async throws -> [RevocationEvent] {
        try await rows("SELECT * FROM revocation_events WHERE seq > \(cursor) ORDER BY seq LIMIT \(limit)").map { row in
            RevocationEvent(
                seq: try row["seq"].decode(Int64.self),
                kind: RevocationEvent.Kind(rawValue: try row["kind"].decode(String.self)) ?? .token,
                subject: try row["subject"].decode(String.self),
                agentID: try row["agent_id"].decode(String?.self),
                at: Date(timeIntervalSince1970: try row["at"].decode(Double.self)),
                expiresAt: try row["expires_at"].decode(Double?.self).map(Date.init(timeIntervalSince1970:))
            )
        }
    }

    public func revocationBounds() async throws -> (oldest: Int64, latest: Int64) {
        // The sequence's last value, not MAX(seq): pruning must never move the latest back.
        let query: PostgresQuery = """
            SELECT COALESCE((SELECT MIN(seq) FROM revocation_events), 0) AS oldest,
                   (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM revocation_events_seq_seq) AS latest
            """
        guard let row = try await rows(query).first else { return (0, 0) }
        return (try row["oldest"].decode(Int64.self), try row["latest"].decode(Int64.self))
    }

    public func pruneRevocations(expiredBefore: Date, olderThan: Date) async throws {
        let expired = expiredBefore.timeIntervalSince1970
        let old = olderThan.timeIntervalSince1970
        _ = try await rows("DELETE FROM revocation_events WHERE (kind = 'token' AND expires_at < \(expired)) OR (kind <> 'token' AND at < \(old))")
    }

    // MARK: Audit

    public func appendAudit(_ events: [AuditEvent], key: AuditChainKey) async throws {
        guard !events.isEmpty else { return }
        try await transaction { [logger] connection in try await Self.append(AuditRecord(events: events, key: key), connection, logger) }
    }

    /// Appends `audit`'s events after the chain's last one, inside the caller's transaction. Called
    /// last in a transaction, so the table lock that keeps the chain linear is held only briefly.
    static func append(_ audit: AuditRecord?, _ connection: PostgresConnection, _ logger: Logger) async throws {
        guard let audit, !audit.events.isEmpty else { return }
        // Writers (every node, the CLI) append one at a time so the chain stays linear.
        try await connection.query("LOCK TABLE audit_events IN EXCLUSIVE MODE", logger: logger)
        let last = try await Self.rows(connection, "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1", logger: logger).first
        let previous: (seq: Int64, hash: String)? = try last.map { (try $0["seq"].decode(Int64.self), try $0["hash"].decode(String.self)) }
        for event in AuditChain.link(audit.events, after: previous, key: audit.key) {
            let details = String(decoding: try JSONEncoder().encode(event.details), as: UTF8.self)
            let time = event.time.timeIntervalSince1970
            let outcome = event.outcome.rawValue
            try await connection.query(
                """
                INSERT INTO audit_events (seq, time, type, agent_id, credential_id, client_address, request_id, outcome, details, previous_hash, hash)
                VALUES (\(event.seq), \(time), \(event.type.rawValue), \(event.agentID), \(event.credentialID), \(event.clientAddress),
                        \(event.requestID), \(outcome), \(details), \(event.previousHash), \(event.hash))
                """,
                logger: logger
            )
        }
    }

    public func auditEvents(_ filter: AuditFilter) async throws -> [AuditEvent] {
        let since = filter.since?.timeIntervalSince1970
        return try await rows(
            """
            SELECT * FROM audit_events
            WHERE (\(filter.agentID)::TEXT IS NULL OR agent_id = \(filter.agentID))
              AND (\(filter.type?.rawValue)::TEXT IS NULL OR type = \(filter.type?.rawValue))
              AND (\(since)::DOUBLE PRECISION IS NULL OR time >= \(since))
            ORDER BY seq DESC LIMIT \(filter.limit)
            """
        ).map(Self.auditEvent)
    }

    public func auditChain() async throws -> [AuditEvent] {
        try await rows("SELECT * FROM audit_events ORDER BY seq").map(Self.auditEvent)
    }

    /// The migrations applied, oldest first.
    public func appliedMigrations() async throws -> [String] {
        try await rows("SELECT name FROM schema_migrations ORDER BY applied_at, name").map { try $0["name"].decode(String.self) }
    }
}
