import AgentAuthCore
import Foundation
import GRDB

/// Row mapping: records to rows and back, failing closed on values the store cannot read.
extension SQLiteStore {
    static func insert(_ agent: Agent, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO agents (id, name, status, created_at, disabled_at, rate_limit, quota_requests, quota_period)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                agent.id, agent.name, agent.status.rawValue, agent.createdAt.timeIntervalSince1970, agent.disabledAt?.timeIntervalSince1970,
                agent.rateLimit, agent.quota?.requests, agent.quota?.period.rawValue,
            ]
        )
    }

    static func insert(_ key: APIKey, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO api_keys (id, agent_id, name, key_hash, display, scopes, rate_limit, quota_requests, quota_period, status,
                                      created_at, expires_at, revoked_at, last_used_at, replaced_by)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                key.id, key.agentID, key.name, key.keyHash, key.display, key.scopes.description, key.rateLimit, key.quota?.requests,
                key.quota?.period.rawValue, key.status.rawValue, key.createdAt.timeIntervalSince1970, key.expiresAt?.timeIntervalSince1970,
                key.revokedAt?.timeIntervalSince1970, key.lastUsedAt?.timeIntervalSince1970, key.replacedBy,
            ]
        )
    }

    static func insert(_ client: OAuthClient, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO oauth_clients (client_id, agent_id, scopes, audiences, token_ttl, grant_types, auth_method, jwks,
                                           secret_hash, previous_secret_hash, previous_secret_expires_at, created_at,
                                           name, rate_limit, status, disabled_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                client.clientID, client.agentID, client.scopes.description, try Self.json(client.audiences), client.tokenTTL,
                client.grantTypes.map(\.rawValue).sorted().joined(separator: " "), client.authMethod.rawValue, client.jwks,
                client.secretHash, client.previousSecretHash, client.previousSecretExpiresAt?.timeIntervalSince1970,
                client.createdAt.timeIntervalSince1970, client.name, client.rateLimit, client.status.rawValue,
                client.disabledAt?.timeIntervalSince1970,
            ]
        )
    }

    static func insert(_ key: SigningKey, _ db: Database) throws {
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

    static func client(_ row: Row) throws -> OAuthClient {
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
            createdAt: date(row["created_at"])!,
            name: row["name"],
            rateLimit: row["rate_limit"],
            // An unknown status is treated as disabled: fail closed.
            status: OAuthClient.Status(rawValue: row["status"]) ?? .disabled,
            disabledAt: date(row["disabled_at"])
        )
    }

    static func signingKey(_ row: Row) throws -> SigningKey {
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

    static func insert(_ event: RevocationEvent, _ db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO revocation_events (kind, subject, agent_id, at, expires_at) VALUES (?, ?, ?, ?, ?)").execute(
            arguments: [event.kind.rawValue, event.subject, event.agentID, event.at.timeIntervalSince1970, event.expiresAt?.timeIntervalSince1970]
        )
    }

    static func auditEvent(_ row: Row) throws -> AuditEvent {
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

    static func json(_ value: [String: String]) throws -> String {
        String(decoding: try jsonEncoder.encode(value), as: UTF8.self)
    }

    static func json(_ value: [String]) throws -> String {
        String(decoding: try jsonEncoder.encode(value), as: UTF8.self)
    }

    /// Made once: a client row is read on every token request and an audit row written per token.
    static let jsonEncoder = JSONEncoder()
    static let jsonDecoder = JSONDecoder()

    static func agent(_ row: Row) throws -> Agent {
        agent(row, columnPrefix: "")
    }

    /// The agent's columns in a join (`agents a`, a key or client with its agent), under the
    /// names `joinedAgent` reads.
    static let joinedAgentColumns =
        "a.id AS a_id, a.name AS a_name, a.status AS a_status, a.created_at AS a_created_at, a.disabled_at AS a_disabled_at, "
        + "a.rate_limit AS a_rate_limit, a.quota_requests AS a_quota_requests, a.quota_period AS a_quota_period"

    static func joinedAgent(_ row: Row) -> Agent {
        agent(row, columnPrefix: "a_")
    }

    private static func agent(_ row: Row, columnPrefix prefix: String) -> Agent {
        Agent(
            id: row[prefix + "id"],
            name: row[prefix + "name"],
            status: Agent.Status(rawValue: row[prefix + "status"]) ?? .disabled,
            createdAt: date(row[prefix + "created_at"])!,
            disabledAt: date(row[prefix + "disabled_at"]),
            rateLimit: row[prefix + "rate_limit"],
            quota: quota(row, columnPrefix: prefix)
        )
    }

    /// A quota from its two columns, written together (`nil` when there is none).
    static func quota(_ row: Row, columnPrefix prefix: String = "") -> Quota? {
        guard let requests: Int = row[prefix + "quota_requests"], let period: String = row[prefix + "quota_period"],
            let parsed = Quota.Period(rawValue: period)
        else { return nil }
        return Quota(requests: requests, period: parsed)
    }

    static func apiKey(_ row: Row) throws -> APIKey {
        let scopeString: String = row["scopes"]
        return APIKey(
            id: row["id"],
            agentID: row["agent_id"],
            name: row["name"],
            keyHash: row["key_hash"],
            display: row["display"],
            // Stored scopes were validated on the way in; an unreadable list grants nothing.
            scopes: (try? ScopeSet(parsing: scopeString)) ?? ScopeSet(),
            rateLimit: row["rate_limit"],
            quota: quota(row),
            // An unknown status is treated as revoked: fail closed.
            status: APIKey.Status(rawValue: row["status"]) ?? .revoked,
            createdAt: date(row["created_at"])!,
            expiresAt: date(row["expires_at"]),
            revokedAt: date(row["revoked_at"]),
            lastUsedAt: date(row["last_used_at"]),
            replacedBy: row["replaced_by"]
        )
    }

    static func date(_ seconds: Double?) -> Date? {
        seconds.map(Date.init(timeIntervalSince1970:))
    }
}
