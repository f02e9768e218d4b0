public import AgentAuthCore
public import AgentAuthHTTP
public import Foundation
import Hummingbird

/// The auth server's parts, built once per server from the configuration, the store and the
/// master key: the one place they are made and wired. Each controller and authenticator is given
/// only the parts it uses (`buildRouter(components:)`); the background services run on these
/// same parts (`backgroundServices(components:logger:)`).
public struct ServerComponents: Sendable {
    public let configuration: ServerConfiguration
    public let store: any AgentAuthStore
    public let keyRing: SigningKeyRing
    public let usage: KeyUsageRecorder
    public let audit: AuditLog
    /// The audit chain's key, for admin changes that store their event in their own transaction.
    let chainKey: AuditChainKey
    public let revocations: RevocationList
    /// Tiers, assignments and used-up quotas, kept current with the store by `revocationSync`.
    public let limits: LimitsState
    /// Rate limits and quotas at `/oauth/token`, per client and agent, in this process.
    let limiter: RequestLimiter
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
    let agentStatus: AgentStatusCheck
    /// Clients and agents the token endpoint has read, kept while the store reports no change
    /// (docs/oauth.md "Token issuance without store reads"); `nil` when the store can't report changes.
    let clientCache: ClientAgentCache?
    /// The agent check of token exchange, on `clientCache`.
    let issuanceAgentStatus: AgentStatusCheck
    public let clientFailures: FailureLimiter
    public let addressFailures: FailureLimiter
    /// The clock every component shares (tests move it by hand).
    let now: @Sendable () -> Date
    /// Where the server's metrics go; `GET /metrics` renders them.
    public let metrics: AgentAuthMetrics

    public init(
        configuration: ServerConfiguration,
        store: any AgentAuthStore,
        masterKey: MasterKey,
        now: @escaping @Sendable () -> Date = Date.init,
        metrics: AgentAuthMetrics = AgentAuthMetrics()
    ) {
        self.configuration = configuration
        self.metrics = metrics
        self.store = store
        self.now = now
        keyRing = SigningKeyRing(store: store, masterKey: masterKey, now: now)
        usage = KeyUsageRecorder(store: store)
        chainKey = AuditChainKey(masterKey: masterKey)
        audit = AuditLog(store: store, key: chainKey, now: now)
        revocations = RevocationList()
        limits = LimitsState()
        limiter = RequestLimiter(state: limits, now: now)
        // Revocations answer once the verifiers acknowledged them (`RevocationSync.syncAndConfirm`).
        let confirmation = RevocationConfirmation(store: store, timeout: configuration.revocationConfirmTimeout, now: now)
        revocationSync = RevocationSync(store: store, list: revocations, limits: limits, keyRing: keyRing, confirmation: confirmation, now: now)
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
        let clientCache = (store as? any StoreChangeCounter).map { ClientAgentCache(counter: $0) }
        self.clientCache = clientCache
        clients = ClientAuthenticator(store: store, issuer: issuerURL, tokenEndpoint: configuration.tokenEndpoint, cache: clientCache, now: now)
        agentStatus = AgentStatusCheck(store: store)
        issuanceAgentStatus = AgentStatusCheck(store: store, cache: clientCache)
        clientFailures = FailureLimiter(limit: configuration.clientFailureLimit, now: now)
        addressFailures = FailureLimiter(limit: configuration.addressFailureLimit, now: now)
    }

    /// Loads signing keys, revocations and limits before the server takes requests.
    public func prepare() async throws {
        _ = try await keyRing.createInitialKey(configuration.signingAlgorithm)
        try await keyRing.reload()
        try await revocationSync.sync()
        try await revocationSync.reloadLimits()
    }
}
