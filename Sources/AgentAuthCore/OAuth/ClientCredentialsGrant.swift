public import Foundation

/// The client credentials grant (RFC 6749 §4.4) after the client is authenticated: scope
/// narrowing (§3.3) and audience/resource selection (RFC 8707), then a signed token.
public struct ClientCredentialsGrant: Sendable {
    let issuer: TokenIssuer
    /// Audiences a client gets only when it requests them (the admin audience): never its default.
    let explicitAudiences: Set<String>

    public init(issuer: TokenIssuer, explicitAudiences: Set<String> = []) {
        self.issuer = issuer
        self.explicitAudiences = explicitAudiences
    }

    /// - Parameters:
    ///   - requestedScope: the `scope` parameter, if sent.
    ///   - requestedAudiences: every `audience` and `resource` value sent.
    ///   - issuedAt: the token's `iat` when not now (see `TokenIssuer.issue`).
    public func issue(
        client: OAuthClient,
        requestedScope: String?,
        requestedAudiences: [String],
        issuedAt: Date? = nil
    ) async throws -> TokenIssuer.IssuedToken {
        guard client.grantTypes.contains(.clientCredentials) else {
            throw OAuthProtocolError(.unauthorizedClient, "this client may not use the client_credentials grant")
        }
        let scope = try Self.grantedScope(requested: requestedScope, allowed: client.scopes)
        let audience = try Self.audience(requested: requestedAudiences, allowed: client.audiences, explicitOnly: explicitAudiences)
        return try await issuer.issue(
            subject: client.agentID,
            clientID: client.clientID,
            audience: audience,
            scope: scope,
            lifetime: client.tokenTTL,
            issuedAt: issuedAt
        )
    }

    /// Requested ∩ allowed; everything allowed when nothing is requested; nothing left → `invalid_scope`.
    public static func grantedScope(requested: String?, allowed: ScopeSet) throws -> ScopeSet {
        guard let requested else {
            guard !allowed.isEmpty else { throw OAuthProtocolError(.invalidScope, "the client has no scopes") }
            return allowed
        }
        let parsed: ScopeSet
        do {
            parsed = try ScopeSet(parsing: requested)
        } catch {
            throw OAuthProtocolError(.invalidScope, "scope: \(error)")
        }
        let granted = parsed.intersection(allowed)
        guard !granted.isEmpty else { throw OAuthProtocolError(.invalidScope, "none of the requested scopes may be granted to this client") }
        return granted
    }

    /// Each requested audience must be one the client may use; none requested → its first that is
    /// not in `explicitOnly` (audiences given only to a client that asks for them by name).
    public static func audience(requested: [String], allowed: [String], explicitOnly: Set<String> = []) throws -> [String] {
        guard !requested.isEmpty else {
            guard let first = allowed.first(where: { !explicitOnly.contains($0) }) else {
                throw OAuthProtocolError(.invalidTarget, "this client's audiences must be requested by name (audience or resource)")
            }
            return [first]
        }
        var unique: [String] = []
        for value in requested where !unique.contains(value) {
            guard allowed.contains(value) else {
                throw OAuthProtocolError(.invalidTarget, "the requested audience or resource is not allowed for this client")
            }
            unique.append(value)
        }
        return unique
    }
}
