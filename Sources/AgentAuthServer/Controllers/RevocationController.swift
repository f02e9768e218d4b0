import AgentAuthCore
import AgentAuthHTTP
import Foundation
import Hummingbird
import Logging

/// `POST /oauth/revoke` (RFC 7009).
struct RevocationController {
    let callers: CallerAuthorization
    let apiKeys: APIKeyVerifier
    /// Tokens of any audience, no leeway past `exp`: only a token still active has anything to revoke.
    let tokens: TokenVerifier
    let keyAdministration: APIKeyAdministration
    let tokenRevocation: TokenRevocation
    /// A revocation reaches this node's deny-list and the feed's waiting verifiers, and is answered once they acknowledged it.
    let revocationSync: RevocationSync
    let audit: AuditLog
    let chainKey: AuditChainKey

    var endpoints: RouteCollection<AgentAuthRequestContext> {
        RouteCollection(context: AgentAuthRequestContext.self).postOnly("revoke", use: revoke)
    }

    // MARK: RFC 7009

    /// A client may revoke tokens issued to it (and its own agent's API keys); a credential with
    /// `admin` may revoke anything. Unknown, invalid, expired or already revoked tokens → 200
    /// (RFC 7009 §2.2). Another client's token or key → the same 200, and it stays active (the
    /// refusal is audited): answering otherwise would tell any client which found credentials are
    /// live. The revocation and its audit event are one transaction.
    func revoke(_ request: Request, context: AgentAuthRequestContext) async throws -> Response {
        let form = try await FormBody.readAboutToken(from: request, context: context)
        let caller = try await callers.caller(request, form: form, context: context)
        if case .credential = caller, !caller.isAdmin { throw OAuthError.insufficientScope(Scope.admin.value) }
        let token = try form.requiredToken()
        var actor = AuditActor(context, via: "oauth/revoke", chainKey: chainKey)
        if case .client(let client) = caller {
            actor.agentID = client.agentID
            actor.credentialID = client.clientID
        }

        if SecretFormat.apiKey.isWellFormed(token) {
            let key: APIKey
            do {
                key = try await apiKeys.lookUp(token).key
            } catch is CredentialRejection {
                return Self.revoked(context)
            }
            if case .client(let client) = caller, client.agentID != key.agentID { return refuse(client, context) }
            if key.status == .active {
                _ = try await keyAdministration.revokeAPIKey(id: key.id, by: actor)
                _ = await revocationSync.syncAndConfirm()
            }
            return Self.revoked(context)
        }

        let claims: AccessTokenClaims
        do {
            claims = try await tokens.verify(token)
        } catch TokenRejection.keysUnavailable {
            throw OAuthError.temporarilyUnavailable("signing keys are unavailable; try again")
        } catch {
            // Invalid, expired or already revoked: nothing left to revoke.
            return Self.revoked(context)
        }
        if case .client(let client) = caller, client.clientID != claims.clientID { return refuse(client, context) }
        if try await tokenRevocation.revoke(claims, by: actor) {
            _ = await revocationSync.syncAndConfirm()
        }
        return Self.revoked(context)
    }

    /// Audits a refused revocation (another client's token or key) and answers as for an unknown one.
    func refuse(_ client: OAuthClient, _ context: AgentAuthRequestContext) -> Response {
        audit.recordFailure(
            type: .revocationRefused,
            agentID: client.agentID,
            credentialID: client.clientID,
            clientAddress: context.clientAddress,
            reason: "not_issued_to_caller"
        )
        return Self.revoked(context)
    }

    static func revoked(_ context: AgentAuthRequestContext) -> Response {
        Response(status: .ok, headers: [.cacheControl: "no-store", .contentLength: "0"])
    }
}
