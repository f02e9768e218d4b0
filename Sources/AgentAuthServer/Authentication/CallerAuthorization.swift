import AgentAuthCore
import AgentAuthHTTP
import Hummingbird

/// Who may call the OAuth endpoints that resource servers and clients use besides `/token`.
struct CallerAuthorization {
    let components: ServerComponents

    /// The caller of an OAuth endpoint: an authenticated client, or an API key or access token.
    enum Caller {
        case client(OAuthClient)
        case credential(AgentIdentity)

        var isAdmin: Bool {
            if case .credential(let identity) = self { return identity.has(.admin) }
            return false
        }
    }

    /// A client (Basic, form post or assertion), else an API key or access token; neither → 401.
    func caller(_ request: Request, form: FormBody, context: AgentAuthRequestContext) async throws -> Caller {
        if let credentials = try ClientCredentialsExtraction.credentials(from: request, form: form) {
            return .client(try await ClientAuthenticationGate(components: components).authenticate(credentials, context: context).client)
        }
        guard let identity = try await CredentialAuthenticator(components: components).authenticate(request: request, context: context) else {
            throw OAuthError.missingCredentials()
        }
        return .credential(identity)
    }

    /// Introspection and the revocation feed (RFC 7662 §4: only callers meant to introspect): a
    /// client whose allowed scope includes `introspect` or `admin`, or a credential with one of them.
    func authorizeVerifier(_ request: Request, form: FormBody, context: AgentAuthRequestContext) async throws {
        let (scopes, agentID, credentialID): (ScopeSet, String, String)
        switch try await caller(request, form: form, context: context) {
        case .client(let client): (scopes, agentID, credentialID) = (client.scopes, client.agentID, client.clientID)
        case .credential(let identity): (scopes, agentID, credentialID) = (identity.scopes, identity.agentID, identity.credentialID)
        }
        guard scopes.contains(.introspect) || scopes.contains(.admin) else {
            components.audit.recordFailure(
                type: "introspection.refused",
                agentID: agentID,
                credentialID: credentialID,
                clientAddress: context.remoteAddress,
                reason: "insufficient_scope"
            )
            throw OAuthError.insufficientScope(Scope.introspect.value)
        }
    }
}
