import AgentAuthCore
import AgentAuthHTTP
import Hummingbird
import Logging

/// Client authentication with brute-force protection (SECURITY-CASES 11): failures are counted
/// per client and address and per address; once a pair (or an address) is past its limit, its
/// further failures get 429 with `Retry-After` instead of 401.
///
/// Credentials are checked first, so correct credentials always succeed: a legitimate client is
/// never locked out by someone else's failures, from its own address or a shared one. This
/// gives an attacker no useful oracle: secrets are 256-bit random values and assertions are
/// signatures, so the limiter's job is to slow and flag guessing, not to hide the answer.
///
/// What is counted and audited is bounded whatever the caller sends: the client's id only when it
/// names a registered client (else one "unknown client" bucket per address), never the presented
/// string, which may be 60 KB long or a secret sent in the wrong field (SECURITY-CASES 49, 50).
///
/// Every failure is answered no sooner than `failureFloor` after the attempt began, so that the
/// paths of an unknown client, a wrong secret and a bad assertion, which do different work (a
/// row decoded or not), take the same time to the caller: whether a client id exists can't be
/// learnt by timing. A correct authentication never waits.
struct ClientAuthenticationGate {
    let authenticator: ClientAuthenticator
    /// Failures per client and address, and per address.
    let clientFailures: FailureLimiter
    let addressFailures: FailureLimiter
    let audit: AuditLog
    let metrics: AgentAuthMetrics

    /// Well above the spread between failure paths (tens of microseconds, a few hundred under
    /// load), and short enough to cost a failing caller nothing it should mind.
    static let failureFloor: Duration = .milliseconds(5)

    func authenticate(_ credentials: ClientCredentials, context: AgentAuthRequestContext) async throws -> (client: OAuthClient, agent: Agent) {
        let started = ContinuousClock.now
        do {
            let authenticated = try await authenticator.authenticate(credentials)
            RequestObservation.noteAgent(authenticated.agent.id)
            return authenticated
        } catch let failure as ClientAuthenticationFailure {
            metrics.recordAuthenticationFailure(reason: failure.reason.rawValue)
            let addressKey = "address:" + (context.clientAddress ?? "local")
            let pairKey = "client:" + (failure.clientID ?? "-") + "|" + addressKey
            clientFailures.recordFailure(pairKey)
            addressFailures.recordFailure(addressKey)
            audit.recordFailure(
                type: .clientAuthenticationFailure,
                agentID: failure.agentID,
                credentialID: failure.clientID,
                clientAddress: context.clientAddress,
                reason: failure.reason.rawValue
            )
            try? await Task.sleep(until: started + Self.failureFloor, clock: .continuous)
            if let seconds = clientFailures.retryAfter(pairKey) ?? addressFailures.retryAfter(addressKey) {
                metrics.recordRateLimited()
                throw OAuthError(
                    .tooManyRequests,
                    code: .tooManyRequests,
                    description: "too many failed client authentications; retry later",
                    headers: [.retryAfter: String(seconds)]
                )
            }
            throw OAuthProtocolError.invalidClient
        }
    }
}
