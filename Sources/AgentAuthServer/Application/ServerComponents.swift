public import AgentAuthCore
import AgentAuthHTTP
public import Foundation
import Hummingbird

/// Everything the routes share, built once per server from the configuration, the store and
/// the master key.
public struct ServerComponents: Sendable {
    public let configuration: ServerConfiguration
    public let store: any AgentAuthStore
    public let keyRing: SigningKeyRing
    public let usage: KeyUsageRecorder
    public let audit: AuditLog
    /// The audit chain's key, for admin changes that store their event in their own transaction.
    let chainKey: AuditChainKey
    public let revocations: RevocationList
    let revocationSync: RevocationSync
    /// Long-polls of the revocation feed open per credential.
    let feedPolls: ConcurrentPollLimit
    let apiKeys: APIKeyVerifier
    /// Verifies tokens presented to the server's own endpoints (audience: the admin audience only).
    let tokens: TokenVerifier
    /// Verifies tokens of any audience: introspection, revocation and token exchange. No leeway
    /// past `exp`: these answer what state a token of this server's is in, and the server has no
    /// clock skew against itself (RFC 7662 §2.2: an expired token is not active).
    let anyAudienceTokens: TokenVerifier
    let issuer: TokenIssuer
    let clients: ClientAuthenticator
    public let clientFailures: FailureLimiter
    public let addressFailures: FailureLimiter
    /// The clock every component shares (tests move it by hand).
    let now: @Sendable () -> Date

    public init(configuration: ServerConfiguration, store: any AgentAuthStore, masterKey: MasterKey, now: @escaping @Sendable () -> Date = Date.init)
    {
        self.configuration = configuration
        self.store = store
        self.now = now
        keyRing = SigningKeyRing(store: store, masterKey: masterKey, now: now)
        usage = KeyUsageRecorder(store: store)
        chainKey = AuditChainKey(masterKey: masterKey)
        audit = AuditLog(store: store, key: chainKey, now: now)
        revocations = RevocationList()
        revocationSync = RevocationSync(store: store, list: revocations, keyRing: keyRing)
        feedPolls = ConcurrentPollLimit(limit: configuration.maxFeedPollsPerCredential)
        apiKeys = APIKeyVerifier(store: store, usage: usage, now: now)
        let issuerURL = configuration.effectiveIssuer
        // Each policy has its own cache of verified tokens; revocations are checked on every use.
        tokens = TokenVerifier(
            policy: .init(issuer: issuerURL, audiences: [configuration.effectiveAdminAudience]),
            keys: keyRing,
            revocations: revocations,
            cache: VerifiedTokenCache(),
            now: now
        )
        anyAudienceTokens = tokens.with(policy: .init(issuer: issuerURL, audiences: nil, expiryLeeway: 0), cache: VerifiedTokenCache())
        issuer = TokenIssuer(issuer: issuerURL, keys: keyRing, now: now)
        clients = ClientAuthenticator(store: store, issuer: issuerURL, tokenEndpoint: Self.tokenEndpoint(issuerURL), now: now)
        clientFailures = FailureLimiter(limit: configuration.clientFailureLimit, now: now)
        addressFailures = FailureLimiter(limit: configuration.addressFailureLimit, now: now)
    }

    static func tokenEndpoint(_ issuer: String) -> String { issuer + "/oauth/token" }

    /// Loads signing keys and revocations before the server takes requests.
    public func prepare() async throws {
        _ = try await keyRing.createInitialKey(configuration.signingAlgorithm)
        try await keyRing.reload()
        try await revocationSync.sync()
    }

    /// The caller of a request as the actor of the admin change it makes (`via`: `api`, or the
    /// OAuth endpoint's name).
    func actor(for context: AgentAuthRequestContext, via: String = "api") -> AuditActor {
        AuditActor(
            agentID: context.identity?.agentID,
            credentialID: context.identity?.credentialID,
            via: via,
            clientAddress: context.remoteAddress,
            requestID: context.id,
            chainKey: chainKey
        )
    }

    /// Records an audit event for a request (address, request id) now.
    func audit(
        _ type: String,
        context: AgentAuthRequestContext,
        agentID: String?,
        credentialID: String?,
        outcome: AuditEvent.Outcome = .success,
        details: [String: String] = [:]
    ) {
        var details = details
        if let actor = context.identity {
            details["actor_agent_id"] = actor.agentID
            details["actor_credential_id"] = actor.credentialID
        }
        audit.record(
            AuditEvent(
                time: now(),
                type: type,
                agentID: agentID,
                credentialID: credentialID,
                clientAddress: context.remoteAddress,
                requestID: context.id,
                outcome: outcome,
                details: details
            )
        )
    }

    /// Checks a verified token against the store: every agent of its chain (subject and actors)
    /// exists, is active, and was not disabled at or after the token was issued (DESIGN.md
    /// "Access tokens").
    func checkAgent(of claims: AccessTokenClaims) async throws {
        for agentID in claims.chainAgents {
            guard let agent = try await store.agent(id: agentID), agent.status == .active else { throw TokenRejection.agentDisabled }
            if let disabledAt = agent.disabledAt, disabledAt >= claims.issuedAt { throw TokenRejection.agentDisabled }
        }
    }

    /// Longest a retired signing key must stay published (see `SigningKeyRing.retiredKeyLifetime`).
    func retiredKeyLifetime() async throws -> TimeInterval {
        keyRing.retiredKeyLifetime(maxTokenLifetime: try await store.maxClientTokenTTL(), leeway: tokens.policy.leeway)
    }

    /// Seconds a rotated-in key waits before it signs.
    var signingKeyActivationDelay: TimeInterval {
        configuration.signingKeyActivationDelay / .seconds(1)
    }
}
