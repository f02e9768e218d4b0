public import Foundation

/// Revoking one access token (`/oauth/revoke`): its `jti` goes on the deny-list, with a feed
/// event and the `token.revoked` audit event, in one transaction.
public struct TokenRevocation: Sendable {
    let store: any RevocationStore
    let now: @Sendable () -> Date

    public init(store: any RevocationStore, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.now = now
    }

    /// Returns `false` when the token was already revoked (nothing stored, no event).
    public func revoke(_ claims: AccessTokenClaims, by actor: AuditActor) async throws -> Bool {
        let at = now()
        let audit = actor.record(.tokenRevoked, agentID: claims.subject, credentialID: claims.clientID, details: ["jti": claims.tokenID], at: at)
        return try await store.revokeToken(jti: claims.tokenID, agentID: claims.subject, expiresAt: claims.expiresAt, at: at, audit: audit)
    }
}
