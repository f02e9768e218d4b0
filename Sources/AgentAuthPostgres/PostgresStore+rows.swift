import AgentAuthCore
import Foundation
import Logging
import PostgresNIO

/// Row mapping for `PostgresStore`: the same columns and fail-closed readings as the SQLite store.
extension PostgresStore {
    static func date(_ cell: PostgresCell) throws -> Date? {
        try cell.decode(Double?.self).map(Date.init(timeIntervalSince1970:))
    }

    static func agent(_ row: PostgresRandomAccessRow) throws -> Agent {
        try agent(row, columnPrefix: "")
    }

    /// The agent's columns in a join (`agents a`, a key or client with its agent), under the
    /// names `joinedAgent` reads.
    static let joinedAgentColumns =
        "a.id AS a_id, a.name AS a_name, a.status AS a_status, a.created_at AS a_created_at, a.disabled_at AS a_disabled_at, "
        + "a.rate_limit AS a_rate_limit, a.quota_requests AS a_quota_requests, a.quota_period AS a_quota_period"

    static func joinedAgent(_ row: PostgresRandomAccessRow) throws -> Agent {
        try agent(row, columnPrefix: "a_")
    }

    private static func agent(_ row: PostgresRandomAccessRow, columnPrefix prefix: String) throws -> Agent {
        Agent(
            id: try row[prefix + "id"].decode(String.self),
            name: try row[prefix + "name"].decode(String.self),
            status: Agent.Status(rawValue: try row[prefix + "status"].decode(String.self)) ?? .disabled,
            createdAt: try date(row[prefix + "created_at"])!,
            disabledAt: try date(row[prefix + "disabled_at"]),
            rateLimit: try row[prefix + "rate_limit"].decode(String?.self),
            quota: try quota(row, columnPrefix: prefix)
        )
    }

    /// A quota from its two columns, written together (`nil` when there is none).
    static func quota(_ row: PostgresRandomAccessRow, columnPrefix prefix: String = "") throws -> Quota? {
        guard let requests = try row[prefix + "quota_requests"].decode(Int?.self),
            let period = try row[prefix + "quota_period"].decode(String?.self).flatMap(Quota.Period.init(rawValue:))
        else { return nil }
        return Quota(requests: requests, period: period)
    }

    static func apiKey(_ row: PostgresRandomAccessRow) throws -> APIKey {
        APIKey(
            id: try row["id"].decode(String.self),
            agentID: try row["agent_id"].decode(String.self),
            name: try row["name"].decode(String?.self),
            keyHash: try row["key_hash"].decode(String.self),
            display: try row["display"].decode(String.self),
            scopes: (try? ScopeSet(parsing: try row["scopes"].decode(String.self))) ?? ScopeSet(),
            rateLimit: try row["rate_limit"].decode(String?.self),
            quota: try quota(row),
            status: APIKey.Status(rawValue: try row["status"].decode(String.self)) ?? .revoked,
            createdAt: try date(row["created_at"])!,
            expiresAt: try date(row["expires_at"]),
            revokedAt: try date(row["revoked_at"]),
            lastUsedAt: try date(row["last_used_at"]),
            replacedBy: try row["replaced_by"].decode(String?.self)
        )
    }

    static func client(_ row: PostgresRandomAccessRow) throws -> OAuthClient {
        let audiences = try row["audiences"].decode(String.self)
        let grants = try row["grant_types"].decode(String.self)
        return OAuthClient(
            clientID: try row["client_id"].decode(String.self),
            agentID: try row["agent_id"].decode(String.self),
            scopes: (try? ScopeSet(parsing: try row["scopes"].decode(String.self))) ?? ScopeSet(),
            audiences: (try? JSONDecoder().decode([String].self, from: Data(audiences.utf8))) ?? [],
            tokenTTL: try row["token_ttl"].decode(Int.self),
            grantTypes: Set(grants.split(separator: " ").compactMap { GrantType(rawValue: String($0)) }),
            authMethod: ClientAuthMethod(rawValue: try row["auth_method"].decode(String.self)) ?? .privateKeyJWT,
            jwks: try row["jwks"].decode(String?.self),
            secretHash: try row["secret_hash"].decode(String?.self),
            previousSecretHash: try row["previous_secret_hash"].decode(String?.self),
            previousSecretExpiresAt: try date(row["previous_secret_expires_at"]),
            createdAt: try date(row["created_at"])!,
            name: try row["name"].decode(String?.self),
            rateLimit: try row["rate_limit"].decode(String?.self),
            // An unknown status is treated as disabled: fail closed.
            status: OAuthClient.Status(rawValue: try row["status"].decode(String.self)) ?? .disabled,
            disabledAt: try date(row["disabled_at"])
        )
    }

    static func signingKey(_ row: PostgresRandomAccessRow) throws -> SigningKey {
        guard let algorithm = SigningAlgorithm(rawValue: try row["algorithm"].decode(String.self)) else {
            throw StoreError.unavailable("unknown signing algorithm in the store")
        }
        let sealed = try row["sealed_private_key"].decode(ByteBuffer.self)
        return SigningKey(
            kid: try row["kid"].decode(String.self),
            algorithm: algorithm,
            publicJWK: try row["public_jwk"].decode(String.self),
            sealedPrivateKey: Data(sealed.readableBytesView),
            status: SigningKey.Status(rawValue: try row["status"].decode(String.self)) ?? .retired,
            createdAt: try date(row["created_at"])!,
            retiredAt: try date(row["retired_at"]),
            publishedUntil: try date(row["published_until"])
        )
    }

    static func auditEvent(_ row: PostgresRandomAccessRow) throws -> AuditEvent {
        let details = try row["details"].decode(String.self)
        var event = AuditEvent(
            time: try date(row["time"])!,
            type: AuditEventType(rawValue: try row["type"].decode(String.self)),
            agentID: try row["agent_id"].decode(String?.self),
            credentialID: try row["credential_id"].decode(String?.self),
            clientAddress: try row["client_address"].decode(String?.self),
            requestID: try row["request_id"].decode(String?.self),
            outcome: AuditEvent.Outcome(rawValue: try row["outcome"].decode(String.self)) ?? .failure,
            details: (try? JSONDecoder().decode([String: String].self, from: Data(details.utf8))) ?? [:]
        )
        event.seq = try row["seq"].decode(Int64.self)
        event.previousHash = try row["previous_hash"].decode(String.self)
        event.hash = try row["hash"].decode(String.self)
        return event
    }

    static func insert(_ agent: Agent, _ connection: PostgresConnection, _ logger: Logger) async throws {
        let created = agent.createdAt.timeIntervalSince1970
        let disabled = agent.disabledAt?.timeIntervalSince1970
        let status = agent.status.rawValue
        let quotaRequests = agent.quota?.requests
        let quotaPeriod = agent.quota?.period.rawValue
        try await connection.query(
            """
            INSERT INTO agents (id, name, status, created_at, disabled_at, rate_limit, quota_requests, quota_period)
            VALUES (\(agent.id), \(agent.name), \(status), \(created), \(disabled), \(agent.rateLimit), \(quotaRequests), \(quotaPeriod))
            """,
            logger: logger
        )
    }

    static func insert(_ key: APIKey, _ connection: PostgresConnection, _ logger: Logger) async throws {
        let scopes = key.scopes.description
        let quotaRequests = key.quota?.requests
        let quotaPeriod = key.quota?.period.rawValue
        let status = key.status.rawValue
        let created = key.createdAt.timeIntervalSince1970
        let expires = key.expiresAt?.timeIntervalSince1970
        let revoked = key.revokedAt?.timeIntervalSince1970
        let used = key.lastUsedAt?.timeIntervalSince1970
        try await connection.query(
            """
            INSERT INTO api_keys (id, agent_id, name, key_hash, display, scopes, rate_limit, quota_requests, quota_period, status, created_at,
                                  expires_at, revoked_at, last_used_at, replaced_by)
            VALUES (\(key.id), \(key.agentID), \(key.name), \(key.keyHash), \(key.display), \(scopes), \(key.rateLimit), \(quotaRequests),
                    \(quotaPeriod), \(status), \(created), \(expires), \(revoked), \(used), \(key.replacedBy))
            """,
            logger: logger
        )
    }

    static func insert(_ client: OAuthClient, _ connection: PostgresConnection, _ logger: Logger) async throws {
        let scopes = client.scopes.description
        let audiences = String(decoding: try JSONEncoder().encode(client.audiences), as: UTF8.self)
        let grants = client.grantTypes.map(\.rawValue).sorted().joined(separator: " ")
        let method = client.authMethod.rawValue
        let previousUntil = client.previousSecretExpiresAt?.timeIntervalSince1970
        let created = client.createdAt.timeIntervalSince1970
        let status = client.status.rawValue
        let disabled = client.disabledAt?.timeIntervalSince1970
        try await connection.query(
            """
            INSERT INTO oauth_clients (client_id, agent_id, scopes, audiences, token_ttl, grant_types, auth_method, jwks, secret_hash,
                                       previous_secret_hash, previous_secret_expires_at, created_at, name, rate_limit, status, disabled_at)
            VALUES (\(client.clientID), \(client.agentID), \(scopes), \(audiences), \(client.tokenTTL), \(grants), \(method), \(client.jwks),
                    \(client.secretHash), \(client.previousSecretHash), \(previousUntil), \(created), \(client.name), \(client.rateLimit),
                    \(status), \(disabled))
            """,
            logger: logger
        )
    }

    static func insert(_ key: SigningKey, _ connection: PostgresConnection, _ logger: Logger) async throws {
        let algorithm = key.algorithm.rawValue
        let sealed = ByteBuffer(bytes: key.sealedPrivateKey)
        let status = key.status.rawValue
        let created = key.createdAt.timeIntervalSince1970
        let retired = key.retiredAt?.timeIntervalSince1970
        let until = key.publishedUntil?.timeIntervalSince1970
        try await connection.query(
            """
            INSERT INTO signing_keys (kid, algorithm, public_jwk, sealed_private_key, status, created_at, retired_at, published_until)
            VALUES (\(key.kid), \(algorithm), \(key.publicJWK), \(sealed), \(status), \(created), \(retired), \(until))
            """,
            logger: logger
        )
    }

    /// Taken before a feed event's `seq` is drawn, held to the commit: events then commit in
    /// `seq` order. Otherwise a later `seq` could commit first, a follower reading `seq > cursor`
    /// would move past the earlier one and never see it, and its cursor would acknowledge a
    /// revocation it never applied. Plain reads (the feed) are not blocked; writers of events
    /// queue, as audited ones already do on the audit log's lock, which is taken after this one.
    static func lockFeed(_ connection: PostgresConnection, _ logger: Logger) async throws {
        try await connection.query("LOCK TABLE revocation_events IN EXCLUSIVE MODE", logger: logger)
    }

    static func insert(_ event: RevocationEvent, _ connection: PostgresConnection, _ logger: Logger) async throws {
        let kind = event.kind.rawValue
        let at = event.at.timeIntervalSince1970
        let expires = event.expiresAt?.timeIntervalSince1970
        try await lockFeed(connection, logger)
        try await connection.query(
            "INSERT INTO revocation_events (kind, subject, agent_id, at, expires_at) VALUES (\(kind), \(event.subject), \(event.agentID), \(at), \(expires))",
            logger: logger
        )
    }
}
