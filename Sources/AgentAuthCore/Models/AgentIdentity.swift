/// Who is calling, once a credential has been verified: the agent, the credential, its scopes.
public struct AgentIdentity: Hashable, Sendable {
    public enum CredentialKind: String, Hashable, Sendable {
        case apiKey = "api_key"
        case accessToken = "access_token"
    }

    public var agentID: String
    public var credentialID: String
    public var kind: CredentialKind
    public var scopes: ScopeSet
    /// For an access token: the client it was issued to (its `client_id`).
    public var clientID: String?
    /// For a delegated access token: the agent acting for `agentID` now (`act.sub`).
    public var actorID: String?

    public init(agentID: String, credentialID: String, kind: CredentialKind, scopes: ScopeSet, clientID: String? = nil, actorID: String? = nil) {
        self.agentID = agentID
        self.credentialID = credentialID
        self.kind = kind
        self.scopes = scopes
        self.clientID = clientID
        self.actorID = actorID
    }

    /// The identity an access token's claims give.
    public init(_ claims: AccessTokenClaims) {
        self.init(
            agentID: claims.subject,
            credentialID: claims.tokenID,
            kind: .accessToken,
            scopes: claims.scope,
            clientID: claims.clientID,
            actorID: claims.actors.first
        )
    }

    /// What rate limits, quotas and usage are counted against: the agent making the request (the
    /// actor of a delegated token, whose client asked for it) and the credential it holds (the
    /// API key, or the client an access token was issued to).
    public var limitSubject: LimitSubject {
        LimitSubject(agentID: actorID ?? agentID, credential: kind == .apiKey ? .apiKey(credentialID) : .client(clientID ?? ""))
    }

    public func has(_ scope: Scope) -> Bool { scopes.contains(scope) }
}
