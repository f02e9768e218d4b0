public import AgentAuthCore
public import AgentAuthHTTP
public import Hummingbird
public import Logging

/// Builds the auth server: router, middleware and background services, on the given store.
public func buildApplication(
    configuration: ServerConfiguration,
    store: any AgentAuthStore,
    logger: Logger = Logger(label: "agentauth")
) -> some ApplicationProtocol {
    let usage = KeyUsageRecorder(store: store)
    let router = buildRouter(store: store, usage: usage)
    return Application(
        router: router,
        server: .agentAuthHTTP1(),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: configuration.serverName),
        services: [KeyUsageFlushService(recorder: usage, interval: configuration.usageFlushInterval, logger: logger)],
        logger: logger
    )
}

/// The router alone, for in-process tests and for embedding.
public func buildRouter(store: any AgentAuthStore, usage: KeyUsageRecorder? = nil) -> Router<AgentAuthRequestContext> {
    let verifier = APIKeyVerifier(store: store, usage: usage)
    let administration = AgentAdministration(store: store)
    let router = Router(context: AgentAuthRequestContext.self)
    router.add(middleware: JSONErrorMiddleware())
    router.add(middleware: RequestLimitsMiddleware())
    HealthController(store: store).addRoutes(to: router)
    router.group("oauth").addRoutes(IntrospectionController(verifier: verifier).endpoints)
    router.group("admin")
        .add(middleware: NoStoreMiddleware())
        .add(middleware: APIKeyAuthenticator(verifier: verifier))
        .add(middleware: RequireScope(.admin))
        .addRoutes(AdminController(administration: administration).endpoints)
    return router
}
