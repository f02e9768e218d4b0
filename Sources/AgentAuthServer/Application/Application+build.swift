public import AgentAuthCore
public import AgentAuthHTTP
import Foundation
public import Hummingbird
public import Logging
public import ServiceLifecycle

/// Builds the auth server: router, middleware and background services, on the given store.
/// The signing keys are loaded (and the first one created, for a store that predates them)
/// before the server starts.
public func buildApplication(
    configuration: ServerConfiguration,
    store: any AgentAuthStore,
    masterKey: MasterKey,
    logger: Logger = Logger(label: "agentauth")
) async throws -> some ApplicationProtocol {
    let components = ServerComponents(configuration: configuration, store: store, masterKey: masterKey)
    try await components.prepare()
    return Application(
        router: buildRouter(components: components),
        server: .agentAuthHTTP1(configuration.connectionLimits),
        configuration: .agentAuth(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: configuration.serverName,
            limits: configuration.connectionLimits,
            logger: logger
        ),
        services: backgroundServices(components: components, logger: logger),
        logger: logger
    )
}

/// Batch writers and followers that run beside the HTTP server (shut down after it, so the
/// last requests' audit events and usage are flushed). Public for servers assembled around
/// `buildRouter` (the tests' `TestAuthServer` runs them on its own clock).
public func backgroundServices(components: ServerComponents, logger: Logger) -> [any Service] {
    var services: [any Service] = [
        PeriodicService(name: "API-key usage flush", interval: components.configuration.usageFlushInterval, logger: logger) { _ in
            try await components.usage.flush()
        },
        PeriodicService(name: "audit flush", interval: .seconds(1), logger: logger) { final in
            try await components.audit.flush(final: final)
        },
        PeriodicService(name: "revocation sync", interval: .milliseconds(100), logger: logger) { _ in
            try await components.revocationSync.sync()
        },
        PeriodicService(name: "revocation pruning", interval: .seconds(600), logger: logger) { _ in
            let now = Date()
            // Token entries go once their token can no longer verify; key and agent entries once
            // every cache and token they could affect is gone (tokens live at most a day).
            try await components.store.pruneRevocations(
                expiredBefore: now.addingTimeInterval(-60),
                olderThan: now.addingTimeInterval(-2 * TimeInterval(OAuthClient.maxTokenTTL))
            )
            components.revocations.prune(now: now)
        },
    ]
    if let notifier = components.store as? any StoreChangeNotifier {
        services.append(StoreChangeFollower(notifier: notifier, revocationSync: components.revocationSync, keyRing: components.keyRing))
    }
    return services
}

/// The router alone, for in-process tests and for embedding: each controller gets only the
/// parts it uses.
public func buildRouter(components: ServerComponents) -> Router<AgentAuthRequestContext> {
    let c = components
    let clientGate = ClientAuthenticationGate(
        authenticator: c.clients,
        clientFailures: c.clientFailures,
        addressFailures: c.addressFailures,
        audit: c.audit
    )
    let credentialAuthenticator = CredentialAuthenticator(apiKeys: c.apiKeys, tokens: c.tokens, agentStatus: c.agentStatus, audit: c.audit)
    let callers = CallerAuthorization(clientGate: clientGate, credentialAuthenticator: credentialAuthenticator, audit: c.audit)
    let configuration = c.configuration
    let adminAudience: Set<String> = [configuration.effectiveAdminAudience]

    let router = Router(context: AgentAuthRequestContext.self)
    router.add(middleware: JSONErrorMiddleware())
    router.add(middleware: RequestLimitsMiddleware())
    HealthController(store: c.store).addRoutes(to: router)
    DiscoveryController(issuer: configuration.effectiveIssuer, keyRing: c.keyRing).addRoutes(to: router)
    router.group("oauth")
        .addRoutes(
            TokenController(
                clientGate: clientGate,
                clientCredentials: ClientCredentialsGrant(issuer: c.issuer, explicitAudiences: adminAudience),
                tokenExchange: TokenExchangeGrant(
                    issuer: c.issuer,
                    store: c.store,
                    maxDepth: configuration.maxDelegationDepth,
                    explicitAudiences: adminAudience
                ),
                exchangeTokens: c.anyAudienceTokens,
                agentStatus: c.agentStatus,
                audit: c.audit,
                now: c.now
            ).endpoints
        )
        .addRoutes(IntrospectionController(callers: callers, apiKeys: c.apiKeys, tokens: c.anyAudienceTokens, agentStatus: c.agentStatus).endpoints)
        .addRoutes(
            RevocationController(
                callers: callers,
                apiKeys: c.apiKeys,
                tokens: c.anyAudienceTokens,
                keyAdministration: APIKeyAdministration(store: c.store, now: c.now),
                tokenRevocation: TokenRevocation(store: c.store, now: c.now),
                revocationSync: c.revocationSync,
                audit: c.audit,
                chainKey: c.chainKey
            ).endpoints
        )
        .addRoutes(RevocationFeedController(callers: callers, store: c.store, revocationSync: c.revocationSync, feedPolls: c.feedPolls).endpoints)
    router.group("admin")
        .add(middleware: NoStoreMiddleware())
        .add(middleware: credentialAuthenticator)
        .add(middleware: AuditRefusalsMiddleware(audit: c.audit, type: .adminRefused))
        .add(middleware: RequireScope(.admin))
        .addRoutes(
            AgentsController(agents: AgentAdministration(store: c.store, now: c.now), revocationSync: c.revocationSync, chainKey: c.chainKey)
                .endpoints
        )
        .addRoutes(
            APIKeysController(keys: APIKeyAdministration(store: c.store, now: c.now), revocationSync: c.revocationSync, chainKey: c.chainKey)
                .endpoints
        )
        .addRoutes(
            ClientsController(
                clients: ClientAdministration(store: c.store, defaultAudience: configuration.defaultAudience, now: c.now),
                chainKey: c.chainKey
            ).endpoints
        )
        .addRoutes(
            SigningKeysController(
                signingKeys: SigningKeyAdministration(keyRing: c.keyRing, store: c.store, leeway: c.tokens.policy.leeway, now: c.now),
                defaultAlgorithm: configuration.signingAlgorithm,
                activationDelay: configuration.signingKeyActivationDelay / .seconds(1),
                revocationSync: c.revocationSync,
                chainKey: c.chainKey,
                now: c.now
            ).endpoints
        )
        .addRoutes(DelegationController(delegation: DelegationAdministration(store: c.store, now: c.now), chainKey: c.chainKey).endpoints)
        .addRoutes(AuditController(store: c.store).endpoints)
    return router
}
