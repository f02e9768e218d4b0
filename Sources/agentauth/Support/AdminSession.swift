import AgentAuthCore

/// What an admin command needs to change the database: the opened store and the audit actor
/// (the command line, keyed with the deployment's master key). The master key is resolved
/// exactly as `serve` resolves it and checked against the store before anything is written, so a
/// missing or wrong key changes nothing; each change is then stored with its audit event.
struct AdminSession {
    let store: any AgentAuthStore
    let masterKey: MasterKey
    let actor: AuditActor

    /// Opens the store (one, closed when `body` returns) and checks the master key against it.
    static func with<T>(_ store: StoreOptions, _ masterKey: MasterKeyOptions, _ body: (AdminSession) async throws -> T) async throws -> T {
        let key = try masterKey.load(for: store, create: false)
        return try await store.withStore { opened in
            try await masterKey.check(key, against: opened, of: store)
            return try await body(AdminSession(store: opened, masterKey: key, actor: .commandLine(chainKey: AuditChainKey(masterKey: key))))
        }
    }

    var administration: AgentAdministration { AgentAdministration(store: store) }
    var apiKeys: APIKeyAdministration { APIKeyAdministration(store: store) }
    var delegation: DelegationAdministration { DelegationAdministration(store: store) }
    var rateLimits: RateLimitAdministration { RateLimitAdministration(store: store) }

    /// Retired keys stay published past the verifiers' default expiry leeway, as a server's do.
    var signingKeys: SigningKeyAdministration {
        SigningKeyAdministration(keyRing: SigningKeyRing(store: store, masterKey: masterKey), store: store, leeway: TokenVerifier.defaultLeeway)
    }

    func clientAdministration(defaultAudience: String = "agentauth") -> ClientAdministration {
        ClientAdministration(store: store, defaultAudience: defaultAudience)
    }
}
