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
struct ClientAuthenticationGate {
    let components: ServerComponents

    func authenticate(_ credentials: ClientCredentials, context: AgentAuthRequestContext) async throws -> (client: OAuthClient, agent: Agent) {
        let address = context.remoteAddress ?? "local"
        let addressKey = "address:" + address
        let pairKey = "client:" + (credentials.claimedClientID ?? "-") + "|" + addressKey
        do {
            return try await components.clients.authenticate(credentials)
        } catch let error as OAuthProtocolError where error.code == .invalidClient {
            components.clientFailures.recordFailure(pairKey)
            components.addressFailures.recordFailure(addressKey)
            components.audit.recordFailure(
                type: "client_auth.failure",
                credentialID: credentials.claimedClientID.map { String($0.prefix(64)) },
                clientAddress: context.remoteAddress,
                reason: "invalid_client"
            )
            if let seconds = components.clientFailures.retryAfter(pairKey) ?? components.addressFailures.retryAfter(addressKey) {
                throw OAuthError(
                    .tooManyRequests,
                    code: "too_many_requests",
                    description: "too many failed client authentications; retry later",
                    headers: [.retryAfter: String(seconds)]
                )
            }
            throw error
        }
    }
}
