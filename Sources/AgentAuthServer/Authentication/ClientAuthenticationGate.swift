import AgentAuthCore
import AgentAuthHTTP
import Hummingbird
import Logging

/// Client authentication with brute-force protection (SECURITY-CASES 11): failures are counted
/// per client and address and per address; past the limit the pair (or address) gets 429 with
/// `Retry-After` before any secret is checked. A legitimate client calling from its own address
/// is not locked out by failures elsewhere.
struct ClientAuthenticationGate {
    let components: ServerComponents

    func authenticate(_ credentials: ClientCredentials, context: AgentAuthRequestContext) async throws -> (client: OAuthClient, agent: Agent) {
        let address = context.remoteAddress ?? "local"
        let addressKey = "address:" + address
        let pairKey = "client:" + (credentials.claimedClientID ?? "-") + "|" + addressKey
        if let seconds = components.clientFailures.retryAfter(pairKey) ?? components.addressFailures.retryAfter(addressKey) {
            throw OAuthError(
                .tooManyRequests,
                code: "too_many_requests",
                description: "too many failed client authentications; retry later",
                headers: [.retryAfter: String(seconds)]
            )
        }
        do {
            return try await components.clients.authenticate(credentials)
        } catch let error as OAuthProtocolError where error.code == .invalidClient {
            components.clientFailures.recordFailure(pairKey)
            components.addressFailures.recordFailure(addressKey)
            context.logger.info(
                "client authentication failed",
                metadata: ["client_id": "\(credentials.claimedClientID?.prefix(64) ?? "-")", "address": "\(address)"]
            )
            throw error
        }
    }
}
