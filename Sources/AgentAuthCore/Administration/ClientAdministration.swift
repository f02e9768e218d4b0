public import Foundation

/// Registering OAuth clients and rotating their secrets, shared by the admin API and the CLI.
public struct ClientAdministration: Sendable {
    let store: any AgentAuthStore
    let defaultAudience: String
    let now: @Sendable () -> Date

    public static let maxClientIDLength = 128
    public static let maxAudienceLength = 256
    public static let maxAudiences = 20
    public static let minTokenTTL = 60
    public static let maxJWKSLength = 16 * 1024
    /// Longest `client_name` accepted.
    public static let maxClientNameLength = 200

    public init(store: any AgentAuthStore, defaultAudience: String = "agentauth", now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.defaultAudience = defaultAudience
        self.now = now
    }

    public func createClient(agentID: String, _ request: ClientRequest, by actor: AuditActor) async throws -> IssuedClient {
        let clientID = try request.clientID.map(Self.validatedClientID) ?? Identifier.make(prefix: "cli_")
        guard let scopeText = request.scope else { throw AdministrationError.invalidRequest("scope is required") }
        let scopes: ScopeSet
        do {
            scopes = try ScopeSet(parsing: scopeText)
        } catch {
            throw AdministrationError.invalidRequest("scope: \(error)")
        }
        let audiences = try Self.validatedAudiences(request.audiences ?? [defaultAudience])
        let ttl = request.tokenTTL ?? OAuthClient.defaultTokenTTL
        guard (Self.minTokenTTL...OAuthClient.maxTokenTTL).contains(ttl) else {
            throw AdministrationError.invalidRequest("token_ttl must be between \(Self.minTokenTTL) and \(OAuthClient.maxTokenTTL) seconds")
        }
        let grantTypes = try Self.validatedGrantTypes(request.grantTypes)
        let name = try request.name.map { try AgentAdministration.validatedName($0, field: "client_name", maxLength: Self.maxClientNameLength) }
        let rateLimit = try request.rateLimit.map(RateLimitAdministration.validatedAssignment)
        guard let method = ClientAuthMethod(rawValue: request.authMethod ?? ClientAuthMethod.clientSecretBasic.rawValue) else {
            let names = ClientAuthMethod.allCases.map(\.rawValue).joined(separator: ", ")
            throw AdministrationError.invalidRequest("token_endpoint_auth_method must be one of: \(names)")
        }
        var jwks: String?
        var secret: String?
        if method == .privateKeyJWT {
            guard let text = request.jwks else { throw AdministrationError.invalidRequest("private_key_jwt needs the client's public jwks") }
            jwks = try Self.validatedJWKS(text)
        } else {
            guard request.jwks == nil else { throw AdministrationError.invalidRequest("jwks is only for private_key_jwt clients") }
            secret = SecretFormat.clientSecret.generate()
        }
        let agent = try await AgentAdministration(store: store, now: now).agent(id: agentID)
        guard agent.status == .active else { throw AdministrationError.conflict("agent is disabled") }
        let client = OAuthClient(
            clientID: clientID,
            agentID: agent.id,
            scopes: scopes,
            audiences: audiences,
            tokenTTL: ttl,
            grantTypes: grantTypes,
            authMethod: method,
            jwks: jwks,
            secretHash: secret.map(SecretFormat.storageHash),
            createdAt: now(),
            name: name,
            rateLimit: rateLimit
        )
        var details = ["scope": scopes.description, "auth_method": method.rawValue]
        if let name { details["client_name"] = name }
        if let rateLimit { details["rate_limit"] = rateLimit }
        let audit = actor.record(.clientCreated, agentID: agent.id, credentialID: clientID, details: details, at: client.createdAt)
        do {
            try await RateLimitAdministration.mappingUndefinedTier(rateLimit) { try await store.insertClient(client, audit: audit) }
        } catch let error as StoreError where error.kind == .conflict {
            throw AdministrationError.conflict("client_id is taken")
        }
        return IssuedClient(client: client, secret: secret)
    }

    public func client(id: String) async throws -> OAuthClient {
        guard id.utf8.count <= Self.maxClientIDLength, let client = try await store.client(id: id) else {
            throw AdministrationError.notFound("no such client")
        }
        return client
    }

    public func clients(agentID: String) async throws -> [OAuthClient] {
        let agent = try await AgentAdministration(store: store, now: now).agent(id: agentID)
        return try await store.clients(agentID: agent.id)
    }

    /// A new secret; the old one keeps working for `graceSeconds` (0: it stops at once).
    public func rotateSecret(clientID: String, graceSeconds: Int, by actor: AuditActor) async throws -> IssuedClient {
        guard (0...APIKeyAdministration.maxGraceSeconds).contains(graceSeconds) else {
            throw AdministrationError.invalidRequest("grace_seconds must be between 0 and \(APIKeyAdministration.maxGraceSeconds)")
        }
        let existing = try await client(id: clientID)
        guard existing.authMethod != .privateKeyJWT else {
            throw AdministrationError.conflict("a private_key_jwt client has no secret; register new keys instead")
        }
        let secret = SecretFormat.clientSecret.generate()
        let audit = actor.record(
            .clientSecretRotated,
            agentID: existing.agentID,
            credentialID: existing.clientID,
            details: ["grace_seconds": String(graceSeconds)],
            at: now()
        )
        guard
            let client = try await store.rotateClientSecret(
                id: existing.clientID,
                newSecretHash: SecretFormat.storageHash(secret),
                previousValidUntil: now().addingTimeInterval(TimeInterval(graceSeconds)),
                audit: audit
            )
        else { throw AdministrationError.notFound("no such client") }
        return IssuedClient(client: client, secret: secret)
    }

    // MARK: Validation

    static func validatedClientID(_ value: String) throws -> String {
        // Visible ASCII (RFC 6749 Appendix A.1 allows it all); "/", "%", "?" and "#" are left
        // out so that the id can stand in an admin URL path as it is.
        let allowed = value.utf8.allSatisfy { byte in
            (0x21...0x7E).contains(byte) && !"/%?#".utf8.contains(byte)
        }
        guard !value.isEmpty, value.utf8.count <= maxClientIDLength, allowed else {
            throw AdministrationError.invalidRequest("client_id must be 1 to \(maxClientIDLength) visible ASCII characters, without / % ? #")
        }
        // An id shaped like a secret would be redacted wherever it is recorded (and invites pasting secrets as ids).
        guard AuditRedaction.redact(value) == value else {
            throw AdministrationError.invalidRequest("client_id must not look like a secret or a token")
        }
        return value
    }

    static func validatedAudiences(_ values: [String]) throws -> [String] {
        guard !values.isEmpty, values.count <= maxAudiences else {
            throw AdministrationError.invalidRequest("audience must list 1 to \(maxAudiences) values")
        }
        for value in values {
            guard !value.isEmpty, value.utf8.count <= maxAudienceLength, value.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F })
            else {
                throw AdministrationError.invalidRequest("each audience must be 1 to \(maxAudienceLength) visible characters")
            }
        }
        var unique: [String] = []
        for value in values where !unique.contains(value) { unique.append(value) }
        return unique
    }

    static func validatedGrantTypes(_ values: [String]?) throws -> Set<GrantType> {
        guard let values else { return Set(GrantType.allCases) }
        var grants = Set<GrantType>()
        for value in values {
            guard let grant = GrantType(rawValue: value) else {
                throw AdministrationError.invalidRequest("grant_types may contain: \(GrantType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            grants.insert(grant)
        }
        guard !grants.isEmpty else { throw AdministrationError.invalidRequest("grant_types must not be empty") }
        return grants
    }

    /// A JWKS of public signing keys only: no private or symmetric members, a usable key type.
    static func validatedJWKS(_ text: String) throws -> String {
        guard text.utf8.count <= maxJWKSLength, let data = text.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let keys = object["keys"] as? [[String: Any]], !keys.isEmpty
        else {
            throw AdministrationError.invalidRequest("jwks must be a JSON object with a non-empty keys array")
        }
        let privateMembers: Set<String> = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]
        var kids = Set<String>()
        for key in keys {
            guard Set(key.keys).isDisjoint(with: privateMembers) else { throw AdministrationError.invalidRequest("jwks must hold public keys only") }
            guard let kty = key["kty"] as? String, ["OKP", "EC", "RSA"].contains(kty) else {
                throw AdministrationError.invalidRequest("jwks keys must be OKP (Ed25519), EC (P-256) or RSA")
            }
            if kty == "RSA" {
                guard let modulus = key["n"] as? String, RSAKeySize.isStrongEnough(modulus: modulus) else {
                    throw AdministrationError.invalidRequest("RSA keys must have a modulus of at least \(RSAKeySize.minimumBits) bits")
                }
            }
            if let kid = key["kid"] as? String, !kids.insert(kid).inserted { throw AdministrationError.invalidRequest("jwks kids must be unique") }
        }
        guard keys.count == 1 || kids.count == keys.count else {
            throw AdministrationError.invalidRequest("with more than one key, every key needs a kid")
        }
        let normalized = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: normalized, as: UTF8.self)
    }
}
