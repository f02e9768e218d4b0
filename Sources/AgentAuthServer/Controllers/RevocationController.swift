import AgentAuthCore
import AgentAuthHTTP
import Foundation
import Hummingbird
import Logging

/// `POST /oauth/revoke` (RFC 7009) and `GET /oauth/revocations` (the feed verifiers follow).
struct RevocationController {
    let components: ServerComponents

    var endpoints: RouteCollection<AgentAuthRequestContext> {
        let routes = RouteCollection(context: AgentAuthRequestContext.self)
        routes.post("revoke", use: revoke)
        routes.get("revocations", use: feed)
        routes.refuseMethods(except: .post, on: "revoke")
        return routes
    }

    // MARK: RFC 7009

    /// A client may revoke tokens issued to it (and its own agent's API keys); a credential with
    /// `admin` may revoke anything. Unknown, invalid, expired or already revoked tokens → 200
    /// (RFC 7009 §2.2). Another client's token or key → the same 200, and it stays active (the
    /// refusal is audited): answering otherwise would tell any client which found credentials are
    /// live. The revocation and its audit event are one transaction.
    func revoke(_ request: Request, context: AgentAuthRequestContext) async throws -> Response {
        let form = try await FormBody.read(from: request, context: context)
        let caller = try await CallerAuthorization(components: components).caller(request, form: form, context: context)
        if case .credential = caller, !caller.isAdmin { throw OAuthError.insufficientScope(Scope.admin.value) }
        guard let token = form["token"], !token.isEmpty else { throw OAuthProtocolError.invalidRequest("the token parameter is required") }
        var actor = components.actor(for: context, via: "oauth/revoke")
        if case .client(let client) = caller {
            actor.agentID = client.agentID
            actor.credentialID = client.clientID
        }

        if SecretFormat.apiKey.isWellFormed(token) {
            let key: APIKey
            do {
                key = try await components.apiKeys.lookUp(token).key
            } catch is CredentialRejection {
                return Self.revoked(context)
            }
            if case .client(let client) = caller, client.agentID != key.agentID { return refuse(client, context) }
            if key.status == .active {
                let at = components.now()
                let audit = actor.record("key.revoked", agentID: key.agentID, credentialID: key.id, at: at)
                _ = try await components.store.revokeAPIKey(id: key.id, at: at, audit: audit)
            }
            return Self.revoked(context)
        }

        let verifier = components.anyAudienceTokens
        let claims: AccessTokenClaims
        do {
            claims = try await verifier.verify(token)
        } catch TokenRejection.keysUnavailable {
            throw OAuthError.temporarilyUnavailable("signing keys are unavailable; try again")
        } catch {
            // Invalid, expired or already revoked: nothing left to revoke.
            return Self.revoked(context)
        }
        if case .client(let client) = caller, client.clientID != claims.clientID { return refuse(client, context) }
        let at = components.now()
        let audit = actor.record("token.revoked", agentID: claims.subject, credentialID: claims.clientID, details: ["jti": claims.tokenID], at: at)
        if try await components.store.revokeToken(
            jti: claims.tokenID,
            agentID: claims.subject,
            expiresAt: claims.expiresAt,
            at: at,
            audit: audit
        ) {
            try? await components.revocationSync.sync()
        }
        return Self.revoked(context)
    }

    /// Audits a refused revocation (another client's token or key) and answers as for an unknown one.
    func refuse(_ client: OAuthClient, _ context: AgentAuthRequestContext) -> Response {
        components.audit.recordFailure(
            type: "revocation.refused",
            agentID: client.agentID,
            credentialID: client.clientID,
            clientAddress: context.remoteAddress,
            reason: "not_issued_to_caller"
        )
        return Self.revoked(context)
    }

    static func revoked(_ context: AgentAuthRequestContext) -> Response {
        Response(status: .ok, headers: [.cacheControl: "no-store", .contentLength: "0"])
    }

    // MARK: Feed

    /// Long-poll: returns the events after `after` at once when there are any, else waits up to
    /// `wait` seconds (default 20, at most 30) for one, woken by `RevocationSync` the moment it
    /// learns of one. A cursor older than the retained events answers `"reset": true`: the
    /// verifier drops what it knows and starts again from 0. A credential already holding
    /// `maxFeedPollsPerCredential` waiting polls gets 429 with `Retry-After` instead of another
    /// (RFC 6585 §4; an immediate empty answer would invite an immediate re-poll).
    func feed(_ request: Request, context: AgentAuthRequestContext) async throws -> Response {
        let caller = try await CallerAuthorization(components: components).authorizeVerifier(
            request,
            form: try FormBody(parsing: []),
            context: context
        )
        let query = request.uri.queryParameters
        let after = try Self.integer(query["after"].map(String.init), name: "after", default: 0, range: 0...(Int64.max - 1))
        let wait = try Self.integer(query["wait"].map(String.init), name: "wait", default: 20, range: 0...30)

        let bounds = try await components.store.revocationBounds()
        var body = RevocationFeedResponse(events: [], cursor: after, reset: false)
        if after > 0, bounds.oldest - 1 > after || after > bounds.latest {
            body = RevocationFeedResponse(events: [], cursor: 0, reset: true)
        } else {
            var events = try await self.events(after: after)
            if events.isEmpty, wait > 0 {
                let key = caller.limitKey
                guard components.feedPolls.acquire(key) else {
                    throw OAuthError(
                        .tooManyRequests,
                        code: "too_many_requests",
                        description: "this credential already holds \(components.feedPolls.limit) waiting feed requests",
                        headers: [.retryAfter: "1"]
                    )
                }
                defer { components.feedPolls.release(key) }
                // Ends early at shutdown (so SIGTERM isn't held up for `wait` seconds) and when the
                // request's task is cancelled.
                await components.revocationSync.waitForEvents(after: after, timeout: .seconds(wait))
                events = try await self.events(after: after)
            }
            if let last = events.last { body = RevocationFeedResponse(events: events, cursor: last.seq, reset: false) }
        }
        var response = try context.responseEncoder.encode(body, from: request, context: context)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// The next page of events after `after`, without a store read when this node knows of none.
    func events(after: Int64) async throws -> [RevocationEvent] {
        guard components.revocationSync.latestSeq > after else { return [] }
        return try await components.store.revocations(after: after, limit: 1000)
    }

    static func integer(_ value: String?, name: String, default fallback: Int64, range: ClosedRange<Int64>) throws -> Int64 {
        guard let value else { return fallback }
        guard let number = Int64(value), range.contains(number) else {
            throw OAuthError.invalidRequest("\(name) must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }
}

/// The feed's answer.
struct RevocationFeedResponse: Encodable {
    let events: [RevocationEvent]
    let cursor: Int64
    let reset: Bool
}
