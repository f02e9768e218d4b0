import AgentAuthCore
import AgentAuthHTTP
import Foundation
import Hummingbird

/// `GET /oauth/revocations`: the feed verifiers follow (revoked tokens and keys, disabled agents,
/// signing-key rotations), authorised like introspection.
struct RevocationFeedController {
    let callers: CallerAuthorization
    let store: any RevocationStore & VerifierStore
    /// Knows the latest event this node has seen, and wakes waiting polls when a later one arrives.
    let revocationSync: RevocationSync
    /// Long-polls waiting per credential.
    let feedPolls: ConcurrentPollLimit
    let now: @Sendable () -> Date

    var endpoints: RouteCollection<AgentAuthRequestContext> {
        let routes = RouteCollection(context: AgentAuthRequestContext.self)
        routes.get("revocations", use: feed)
        return routes
    }

    /// Long-poll: returns the events after `after` at once when there are any, else waits up to
    /// `wait` seconds (default 20, at most 30) for one, woken by `RevocationSync` the moment it
    /// learns of one. A cursor older than the retained events answers `"reset": true`: the
    /// verifier drops what it knows and starts again from 0. A credential already holding
    /// `maxFeedPollsPerCredential` waiting polls gets 429 with `Retry-After` instead of another
    /// (RFC 6585 §4; an immediate empty answer would invite an immediate re-poll).
    func feed(_ request: Request, context: AgentAuthRequestContext) async throws -> Response {
        let caller = try await callers.authorizeVerifier(
            request,
            form: try FormBody(parsing: []),
            context: context
        )
        let query = request.uri.queryParameters
        let after = try Self.integer(query["after"].map(String.init), name: "after", default: 0, range: 0...(Int64.max - 1))
        let wait = try Self.integer(query["wait"].map(String.init), name: "wait", default: 20, range: 0...30)
        let verifier = try Self.verifier(query, cursor: after, agentID: caller.agentID, now: now())

        let bounds = try await store.revocationBounds()
        let reset = after > 0 && (bounds.oldest - 1 > after || after > bounds.latest)
        // Recorded before the wait: the poll acknowledges the events up to `after` (the follower
        // applied them before asking for more), and a revocation waiting for this verifier's
        // acknowledgement must see it at once, not after this poll's wait. A cursor this server
        // answers with a reset acknowledges nothing.
        if var verifier {
            // A verifier that stops says so: revocations stop waiting for it at once.
            if try Self.flag(query["leaving"].map(String.init), name: "leaving") {
                _ = try await store.removeVerifier(id: verifier.id, agentID: verifier.agentID)
                return try response(RevocationFeedResponse(events: [], cursor: after, reset: false), request, context)
            }
            verifier.cursor = reset ? 0 : after
            switch try await store.recordVerifierPoll(verifier, limitPerAgent: Verifier.limitPerAgent) {
            case .recorded: break
            case .limitReached:
                throw OAuthError.invalidRequest(
                    "this agent already has \(Verifier.limitPerAgent) registered verifiers; an instance is forgotten an hour after its last poll"
                )
            case .idTaken:
                throw OAuthError.invalidRequest("this verifier instance id is registered to another agent; choose a new random one")
            }
        } else if query["leaving"] != nil {
            throw OAuthError.invalidRequest("leaving needs a verifier instance id (verifier)")
        }
        var body = RevocationFeedResponse(events: [], cursor: after, reset: false)
        if reset {
            body = RevocationFeedResponse(events: [], cursor: 0, reset: true)
        } else {
            var events = try await self.events(after: after)
            if events.isEmpty, wait > 0 {
                let key = caller.limitKey
                guard feedPolls.acquire(key) else {
                    throw OAuthError(
                        .tooManyRequests,
                        code: .tooManyRequests,
                        description: "this credential already holds \(feedPolls.limit) waiting feed requests",
                        headers: [.retryAfter: "1"]
                    )
                }
                defer { feedPolls.release(key) }
                // Ends early at shutdown (so SIGTERM isn't held up for `wait` seconds) and when the
                // request's task is cancelled.
                await revocationSync.waitForEvents(after: after, timeout: .seconds(wait))
                events = try await self.events(after: after)
            }
            if let last = events.last { body = RevocationFeedResponse(events: events, cursor: last.seq, reset: false) }
        }
        return try response(body, request, context)
    }

    func response(_ body: RevocationFeedResponse, _ request: Request, _ context: AgentAuthRequestContext) throws -> Response {
        var response = try context.responseEncoder.encode(body, from: request, context: context)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// `true` or `false`; absent: `false`.
    static func flag(_ value: String?, name: String) throws -> Bool {
        switch value {
        case nil, "false": return false
        case "true": return true
        default: throw OAuthError.invalidRequest("\(name) must be true or false")
        }
    }

    /// The next page of events after `after`, without a store read when this node knows of none.
    func events(after: Int64) async throws -> [RevocationEvent] {
        guard revocationSync.latestSeq > after else { return [] }
        return try await store.revocations(after: after, limit: 1000)
    }

    /// The verifier a poll names (`verifier`, `verifier_name`, `bound_ms`), `nil` for a follower
    /// that names none (it is not waited for). Malformed values are refused, never ignored.
    static func verifier(_ query: Parameters, cursor: Int64, agentID: String, now: Date) throws -> Verifier? {
        guard let id = query["verifier"].map(String.init) else {
            guard query["verifier_name"] == nil, query["bound_ms"] == nil else {
                throw OAuthError.invalidRequest("verifier_name and bound_ms need a verifier instance id (verifier)")
            }
            return nil
        }
        guard Verifier.isValidID(id) else { throw OAuthError.invalidRequest("verifier must be 1-64 characters of A-Z a-z 0-9 . _ -") }
        let name = query["verifier_name"].map(String.init) ?? id
        guard Verifier.isValidName(name) else { throw OAuthError.invalidRequest("verifier_name must be 1-128 printable ASCII characters") }
        let range = Verifier.boundRange
        let bound = try integer(
            query["bound_ms"].map(String.init),
            name: "bound_ms",
            default: Int64(Verifier.defaultBoundMilliseconds),
            range: Int64(range.lowerBound)...Int64(range.upperBound)
        )
        return Verifier(id: id, name: name, agentID: agentID, cursor: cursor, lastSeen: now, firstSeen: now, boundMilliseconds: Int(bound))
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
