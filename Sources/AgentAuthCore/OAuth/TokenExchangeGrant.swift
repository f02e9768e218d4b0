public import Foundation

/// Delegation by token exchange (RFC 8693) after the caller is authenticated and the subject
/// (and actor) tokens are verified: attenuation, the `act` chain, the ancestor list, the depth
/// limit and the subject agent's delegation policy.
public struct TokenExchangeGrant: Sendable {
    let issuer: TokenIssuer
    let store: any AgentAuthStore
    /// The most actors a token may carry (hops from the original agent).
    public let maxDepth: Int
    /// Audiences given only when requested by name (the admin audience).
    let explicitAudiences: Set<String>

    public static let accessTokenType = "urn:ietf:params:oauth:token-type:access_token"
    public static let defaultMaxDepth = 3

    public init(
        issuer: TokenIssuer,
        store: any AgentAuthStore,
        maxDepth: Int = TokenExchangeGrant.defaultMaxDepth,
        explicitAudiences: Set<String> = []
    ) {
        self.issuer = issuer
        self.store = store
        self.maxDepth = maxDepth
        self.explicitAudiences = explicitAudiences
    }

    /// - Parameters:
    ///   - client: the authenticated caller; its agent becomes the new actor.
    ///   - subject: the verified subject token's claims.
    ///   - actor: the verified actor token's claims, when one was sent: the new token then also
    ///     never outlives it and dies with it.
    ///   - requestedScope, requestedAudiences: as for client credentials, within the subject's.
    ///   - issuedAt: the token's `iat` when not now (see `TokenIssuer.issue`).
    public func issue(
        client: OAuthClient,
        subject: AccessTokenClaims,
        actor: AccessTokenClaims? = nil,
        requestedScope: String?,
        requestedAudiences: [String],
        issuedAt: Date? = nil
    ) async throws -> TokenIssuer.IssuedToken {
        guard client.grantTypes.contains(.tokenExchange) else {
            throw OAuthProtocolError(.unauthorizedClient, "this client may not use the token-exchange grant")
        }
        let actors = [client.agentID] + subject.actors
        guard actors.count <= maxDepth else {
            throw OAuthProtocolError.invalidRequest("delegation depth limit reached: at most \(maxDepth) hops from the original agent")
        }
        if let allowed = try await store.delegationPolicy(agentID: subject.subject), !allowed.contains(client.agentID) {
            throw OAuthProtocolError(.accessDenied, "the subject's agent does not allow this agent to act for it")
        }
        // Narrow only: what was asked (default: everything the subject token has), within the
        // subject token's scope and the calling client's.
        let requested = try requestedScope.map { text -> ScopeSet in
            do { return try ScopeSet(parsing: text) } catch { throw OAuthProtocolError(.invalidScope, "scope: \(error)") }
        }
        let granted = (requested ?? subject.scope).intersection(subject.scope).intersection(client.scopes)
        guard !granted.isEmpty else {
            throw OAuthProtocolError(.invalidScope, "no requested scope is held by both the subject token and this client")
        }
        // The audience narrows too: only audiences the subject token already had and the caller may use.
        let allowedAudiences = subject.audience.filter(client.audiences.contains)
        guard !allowedAudiences.isEmpty else {
            throw OAuthProtocolError(.invalidTarget, "the subject token's audiences are not allowed for this client")
        }
        let audience = try ClientCredentialsGrant.audience(requested: requestedAudiences, allowed: allowedAudiences, explicitOnly: explicitAudiences)
        // Never outlive the subject token, the actor token, nor the caller's own token lifetime.
        // Whole seconds, as the issuer stamps them, so a chain doesn't lose a second per hop.
        let now = (issuedAt ?? issuer.now()).timeIntervalSince1970.rounded(.down)
        let subjectRemaining = Int(subject.expiresAt.timeIntervalSince1970 - now)
        guard subjectRemaining > 0 else { throw OAuthProtocolError.invalidRequest("the subject_token has expired") }
        var lifetime = min(subjectRemaining, client.tokenTTL)
        if let actor {
            let actorRemaining = Int(actor.expiresAt.timeIntervalSince1970 - now)
            guard actorRemaining > 0 else { throw OAuthProtocolError.invalidRequest("the actor_token has expired") }
            lifetime = min(lifetime, actorRemaining)
        }
        return try await issuer.issue(
            subject: subject.subject,
            clientID: client.clientID,
            audience: audience,
            scope: granted,
            lifetime: lifetime,
            actors: actors,
            ancestors: subject.ancestors + [subject.tokenID] + (actor?.chainTokenIDs ?? []),
            issuedAt: issuedAt
        )
    }
}
