@testable import AgentAuthClient

extension TestServers {
    /// Short backoffs, so retry tests take milliseconds (a `Retry-After` still sets the floor).
    static let quickRetries = RetryPolicy(maxAttempts: 4, initialBackoff: .milliseconds(20), maxBackoff: .milliseconds(100))

    /// A manager on the servers' shared clock.
    func manager(
        _ client: ClientAuthentication,
        scope: String? = nil,
        audience: [String] = [],
        refreshMargin: Duration = .seconds(60),
        retry: RetryPolicy = quickRetries,
        discover: Bool = false
    ) -> AgentTokenManager {
        AgentTokenManager(
            endpoint: discover ? .issuer(issuer) : .tokenURL(tokenURL),
            client: client,
            grant: .clientCredentials,
            scope: scope,
            audience: audience,
            configuration: .init(refreshMargin: refreshMargin, retry: retry),
            now: clock.instant
        )
    }

    /// A new agent with a `client_secret_basic` client, as the SDK's credentials.
    func basicClient(
        agentName: String = "research-agent",
        scope: String = "conversations:read billing:read",
        tokenTTL: Int? = nil
    ) async throws
        -> (agentID: String, credentials: ClientAuthentication)
    {
        let registered = try await client(agentName: agentName, scope: scope, tokenTTL: tokenTTL)
        return (registered.agentID, .clientSecretBasic(clientID: registered.clientID, clientSecret: registered.secret!))
    }
}
