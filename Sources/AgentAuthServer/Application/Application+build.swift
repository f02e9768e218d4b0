public import AgentAuthCore
public import AgentAuthHTTP
import Foundation
public import Hummingbird
public import Logging
import ServiceLifecycle

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
/// last requests' audit events and usage are flushed).
func backgroundServices(components: ServerComponents, logger: Logger) -> [any Service] {
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
        services.append(StoreChangeFollower(notifier: notifier, components: components))
    }
    return services
}

/// The router alone, for in-process tests and for embedding.
public func buildRouter(components: ServerComponents) -> Router<AgentAuthRequestContext> {
    let router = Router(context: AgentAuthRequestContext.self)
    router.add(middleware: JSONErrorMiddleware())
    router.add(middleware: RequestLimitsMiddleware())
    HealthController(store: components.store).addRoutes(to: router)
    DiscoveryController(components: components).addRoutes(to: router)
    router.group("oauth")
        .addRoutes(TokenController(components: components).endpoints)
        .addRoutes(IntrospectionController(components: components).endpoints)
        .addRoutes(RevocationController(components: components).endpoints)
    router.group("admin")
        .add(middleware: NoStoreMiddleware())
        .add(middleware: CredentialAuthenticator(components: components))
        .add(middleware: AuditRefusalsMiddleware(components: components, type: "admin.refused"))
        .add(middleware: RequireScope(.admin))
        .addRoutes(AdminController(components: components).endpoints)
    return router
}
