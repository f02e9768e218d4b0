import AgentAuthCore
import AgentAuthHTTP
import Hummingbird

/// Who may call the OAuth endpoints that resource servers and clients use besides `/token`.
struct CallerAuthorization {
    let clientGate: ClientAuthenticationGate
    let credentialAuthenticator: CredentialAuthenticator
    let audit: AuditLog

    /// The caller of an OAuth endpoint: an authenticated client, or an API key or access token.
    enum Caller {
        case client(OAuthClient)
        case credential(AgentIdentity)

        var isAdmin: Bool {
            if case .credential(let identity) = self { return identity.has(.admin) }
            return false
        }

        /// The agent the caller acts for.
        var agentID: String {
            switch self {
            case .client(let client): client.agentID
            case .credential(let identity): identity.agentID
            }
        }

        /// What per-credential limits count against: the client, the API key, or for an access
        /// token its agent (a client can mint any number of tokens, so a token's own id bounds nothing).
        var limitKey: String {
            switch self {
            case .client(let client): "client:" + client.clientID
            case .credential(let identity) where identity.kind == .accessToken: "agent:" + identity.agentID
            case .credential(let identity): "key:" + identity.credentialID
            }
        }
    }

    /// A client (Basic, form post or assertion), else an API key or access token; neither → 401.
    func caller(_ request: Request, form: FormBody, context: AgentAuthRequestContext) async throws -> Caller {
        if let credentials = try ClientCredentialsExtraction.credentials(from: request, form: form) {
            return .client(try await clientGate.authenticate(credentials, context: context).client)
        }
        guard let identity = try await credentialAuthenticator.authenticate(request: request, context: context) else {
            throw OAuthError.missingCredentials()
        }
        return .credential(identity)
    }

    /// Introspection and the revocation feed (RFC 7662 §4: only callers meant to introspect): a
    /// client whose allowed scope includes `introspect` or `admin`, or a credential with one of them.
    @discardableResult
    func authorizeVerifier(_ request: Request, form: FormBody, context: AgentAuthRequestContext) async throws -> Caller {
        let caller = try await caller(request, form: form, context: context)
        let (scopes, agentID, credentialID): (ScopeSet, String, String)
        switch caller {
        case .client(let client): (scopes, agentID, credentialID) = (client.scopes, client.agentID, client.clientID)
        case .credential(let identity): (scopes, agentID, credentialID) = (identity.scopes, identity.agentID, identity.credentialID)
        }
        guard scopes.contains(.introspect) || scopes.contains(.admin) else {
            audit.recordFailure(
                type: .introspectionRefused,
                agentID: agentID,
                credentialID: credentialID,
                clientAddress: context.clientAddress,
                reason: "insufficient_scope"
            )
            throw OAuthError.insufficientScope(Scope.introspect.value)
        }
        return caller
    }
}
