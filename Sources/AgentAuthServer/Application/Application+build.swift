public import AgentAuthCore
public import AgentAuthHTTP
import Foundation
public import Hummingbird
public import Logging
public import ServiceLifecycle

/// Builds the auth server: router, middleware and background services, on the given store.
/// The signing keys are loaded (and the first one created, for a store that predates them)
/// before the server starts. `onServerRunning` is called once the listening socket is bound
/// (a busy port makes `run()` throw instead).
public func buildApplication(
    configuration: ServerConfiguration,
    store: any AgentAuthStore,
    masterKey: MasterKey,
    logger: Logger = Logger(label: "agentauth"),
    onServerRunning: @escaping @Sendable () async -> Void = {},
    metrics: AgentAuthMetrics = AgentAuthMetrics()
) async throws -> some ApplicationProtocol {
    let components = ServerComponents(configuration: configuration, store: store, masterKey: masterKey, metrics: metrics)
    try await components.prepare()
    return Application(
        router: buildRouter(components: components),
        server: .agentAuthHTTP1(configuration.connectionLimits, tls: configuration.tls),
        configuration: .agentAuth(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: configuration.serverName,
            limits: configuration.connectionLimits,
            logger: logger
        ),
        services: backgroundServices(components: components, logger: logger),
        onServerRunning: { _ in await onServerRunning() },
        logger: logger
    )
}

/// Batch writers and followers that run beside the HTTP server (shut down after it, so the
/// last requests' audit events and usage are flushed). Public for servers assembled around
/// `buildRouter` (the tests' `TestAuthServer` runs them on its own clock).
public func backgroundServices(components: ServerComponents, logger: Logger) -> [any Service] {
    var services: [any Service] = [
        PeriodicService(name: "API-key usage flush", interval: components.configuration.usageFlushInterval, logger: logger) { _ in
            try await components.metrics.timingStore("usage_flush") { try await components.usage.flush() }
        },
        PeriodicService(name: "audit flush", interval: .seconds(1), logger: logger) { final in
            components.metrics.recordAuditQueueDepth(components.audit.pendingCount)
            try await components.metrics.timingStore("audit_flush") { try await components.audit.flush(final: final) }
        },
        PeriodicService(name: "revocation sync", interval: .milliseconds(100), logger: logger) { _ in
            try await components.metrics.timingStore("revocation_sync") { try await components.revocationSync.sync() }
        },
        // Besides the reloads that limits events bring: a safety net, as verifiers have one.
        PeriodicService(name: "limits refresh", interval: .seconds(60), logger: logger) { _ in
            try await components.revocationSync.reloadLimits()
        },
        PeriodicService(name: "revocation pruning", interval: .seconds(600), logger: logger) { _ in
            let now = Date()
            // Token entries go once their token can no longer verify; key and agent entries once
            // every cache and token they could affect is gone (tokens live at most a day).
            try await components.store.pruneRevocations(
                expiredBefore: now.addingTimeInterval(-60),
                olderThan: now.addingTimeInterval(-2 * TimeInterval(OAuthClient.maxTokenTTL))
            )
            try await components.store.forgetVerifiers(lastSeenBefore: now.addingTimeInterval(-Verifier.forgottenAfter))
            components.revocations.prune(now: now)
            components.limits.prune(now: now)
            // Batch ids only guard against a report sent twice within moments; counts are kept
            // for 400 days, so a month's usage can be read back a year later.
            try await components.store.pruneUsage(
                batchesBefore: now.addingTimeInterval(-86_400),
                countsBefore: now.addingTimeInterval(-400 * 86_400)
            )
        },
    ]
    if let days = components.configuration.auditRetentionDays {
        services.append(auditRetentionService(days: days, components: components, logger: logger))
    }
    if let notifier = components.store as? any StoreChangeNotifier {
        services.append(StoreChangeFollower(notifier: notifier, revocationSync: components.revocationSync, keyRing: components.keyRing))
    }
    return services
}

/// The router alone, for in-process tests and for embedding: each controller gets only the
/// parts it uses.
public func buildRouter(components: ServerComponents) -> Router<AgentAuthRequestContext> {
    let clientGate = ClientAuthenticationGate(
        authenticator: components.clients,
        clientFailures: components.clientFailures,
        addressFailures: components.addressFailures,
        audit: components.audit,
        metrics: components.metrics
    )
    let credentialAuthenticator = CredentialAuthenticator(
        apiKeys: components.apiKeys,
        tokens: components.tokens,
        agentStatus: components.agentStatus,
        audit: components.audit,
        metrics: components.metrics
    )
    let callers = CallerAuthorization(clientGate: clientGate, credentialAuthenticator: credentialAuthenticator, audit: components.audit)
    let configuration = components.configuration
    let adminAudience: Set<String> = [configuration.effectiveAdminAudience]

    let router = Router(context: AgentAuthRequestContext.self)
    // Outermost, so that it sees every answer as sent, errors turned into responses included.
    router.add(middleware: RequestObservationMiddleware(metrics: components.metrics))
    router.add(middleware: ClientAddressMiddleware(trustedProxies: configuration.trustedProxies))
    router.add(middleware: JSONErrorMiddleware())
    router.add(middleware: RequestLimitsMiddleware())
    HealthController(store: components.store, drain: configuration.drain).addRoutes(to: router)
    router.addMetricsRoute(components.metrics) { components.metrics.recordAuditQueueDepth(components.audit.pendingCount) }
    DiscoveryController(issuer: configuration.effectiveIssuer, keyRing: components.keyRing).addRoutes(to: router)
    OpenAPIController().addRoutes(to: router)
    router.group("oauth")
        .addRoutes(
            TokenController(
                clientGate: clientGate,
                clientCredentials: ClientCredentialsGrant(issuer: components.issuer, explicitAudiences: adminAudience),
                tokenExchange: TokenExchangeGrant(
                    issuer: components.issuer,
                    store: components.store,
                    maxDepth: configuration.maxDelegationDepth,
                    explicitAudiences: adminAudience
                ),
                exchangeTokens: components.anyAudienceTokens,
                agentStatus: components.issuanceAgentStatus,
                limiter: components.limiter,
                audit: components.audit,
                metrics: components.metrics,
                now: components.now
            ).endpoints
        )
        .addRoutes(
            IntrospectionController(
                callers: callers,
                apiKeys: components.apiKeys,
                tokens: components.anyAudienceTokens,
                agentStatus: components.agentStatus
            ).endpoints
        )
        .addRoutes(
            RevocationController(
                callers: callers,
                apiKeys: components.apiKeys,
                tokens: components.anyAudienceTokens,
                keyAdministration: APIKeyAdministration(store: components.store, now: components.now),
                tokenRevocation: TokenRevocation(store: components.store, now: components.now),
                revocationSync: components.revocationSync,
                audit: components.audit,
                chainKey: components.chainKey
            ).endpoints
        )
        .addRoutes(
            LimitsController(
                callers: callers,
                store: components.store,
                owners: CredentialOwners(store: components.store),
                audit: components.audit,
                now: components.now
            ).endpoints
        )
        .addRoutes(
            RevocationFeedController(
                callers: callers,
                store: components.store,
                revocationSync: components.revocationSync,
                feedPolls: components.feedPolls,
                now: components.now
            ).endpoints
        )
    router.group("admin")
        .add(middleware: NoStoreMiddleware())
        .add(middleware: credentialAuthenticator)
        .add(middleware: AuditRefusalsMiddleware(audit: components.audit, type: .adminRefused))
        .add(middleware: RequireScope(.admin))
        .addRoutes(
            AgentsController(
                agents: AgentAdministration(store: components.store, now: components.now),
                revocationSync: components.revocationSync,
                chainKey: components.chainKey
            )
            .endpoints
        )
        .addRoutes(
            APIKeysController(
                keys: APIKeyAdministration(store: components.store, now: components.now),
                revocationSync: components.revocationSync,
                chainKey: components.chainKey
            )
            .endpoints
        )
        .addRoutes(
            ClientsController(
                clients: ClientAdministration(store: components.store, defaultAudience: configuration.defaultAudience, now: components.now),
                revocationSync: components.revocationSync,
                chainKey: components.chainKey
            ).endpoints
        )
        .addRoutes(
            RateLimitsController(
                rateLimits: RateLimitAdministration(store: components.store, now: components.now),
                revocationSync: components.revocationSync,
                chainKey: components.chainKey
            ).endpoints
        )
        .addRoutes(
            SigningKeysController(
                signingKeys: SigningKeyAdministration(
                    keyRing: components.keyRing,
                    store: components.store,
                    leeway: components.tokens.policy.leeway,
                    now: components.now
                ),
                defaultAlgorithm: configuration.signingAlgorithm,
                activationDelay: configuration.signingKeyActivationDelay / .seconds(1),
                revocationSync: components.revocationSync,
                chainKey: components.chainKey,
                now: components.now
            ).endpoints
        )
        .addRoutes(
            DelegationController(delegation: DelegationAdministration(store: components.store, now: components.now), chainKey: components.chainKey)
                .endpoints
        )
        .addRoutes(AuditController(store: components.store).endpoints)
        .addRoutes(VerifiersController(registry: VerifierRegistry(store: components.store, now: components.now)).endpoints)
    return router
}
