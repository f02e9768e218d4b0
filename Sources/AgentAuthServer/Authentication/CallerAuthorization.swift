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
            return .client(try await ClientAuthenticationGate(components: components).authenticate(credentials, context: context).client)
        }
        guard let identity = try await CredentialAuthenticator(components: components).authenticate(request: request, context: context) else {
            throw OAuthError.missingCredentials()
        }
        return .credential(identity)
    }

    /// Introspection and the revocation feed: any client, or a credential with `introspect` or `admin`.
    @discardableResult
    func authorizeVerifier(_ request: Request, form: FormBody, context: AgentAuthRequestContext) async throws -> Caller {
        let caller = try await caller(request, form: form, context: context)
        if case .credential(let identity) = caller {
            guard identity.has(.introspect) || identity.has(.admin) else { throw OAuthError.insufficientScope(Scope.introspect.value) }
        }
        return caller
    }
}
