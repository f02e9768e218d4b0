public import AgentAuthCore
public import AgentAuthHTTP
public import Hummingbird
public import Logging

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
    _ = try await components.keyRing.createInitialKey(configuration.signingAlgorithm)
    try await components.keyRing.reload()
    return Application(
        router: buildRouter(components: components),
        server: .agentAuthHTTP1(),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: configuration.serverName),
        services: [KeyUsageFlushService(recorder: components.usage, interval: configuration.usageFlushInterval, logger: logger)],
        logger: logger
    )
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
    router.group("admin")
        .add(middleware: NoStoreMiddleware())
        .add(middleware: CredentialAuthenticator(components: components))
        .add(middleware: RequireScope(.admin))
        .addRoutes(AdminController(components: components).endpoints)
    return router
}
