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

    public init(agentID: String, credentialID: String, kind: CredentialKind, scopes: ScopeSet) {
        self.agentID = agentID
        self.credentialID = credentialID
        self.kind = kind
        self.scopes = scopes
    }

    public func has(_ scope: Scope) -> Bool { scopes.contains(scope) }
}
