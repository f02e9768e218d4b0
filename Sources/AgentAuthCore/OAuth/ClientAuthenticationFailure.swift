/// Why a client failed to authenticate. The answer is always the same `invalid_client`; the
/// reason is for the audit log. `clientID` and `agentID` are set only when the presented id names
/// a registered client: an unknown id is whatever the caller sent (a 60 KB string, a secret in the
/// wrong field), so it is never stored, counted per value or logged.
public struct ClientAuthenticationFailure: Error, Hashable, Sendable {
    public enum Reason: String, Hashable, Sendable {
        case unknownClient = "unknown_client"
        case wrongSecret = "wrong_secret"
        /// The client is registered for another authentication method (RFC 6749 §2.3).
        case wrongMethod = "wrong_method"
        case agentDisabled = "agent_disabled"
        case clientDisabled = "client_disabled"
        case invalidAssertion = "invalid_assertion"
        case replayedAssertion = "replayed_assertion"
    }

    public let reason: Reason
    public let clientID: String?
    public let agentID: String?

    init(_ reason: Reason, client: OAuthClient? = nil) {
        self.reason = reason
        self.clientID = client?.clientID
        self.agentID = client?.agentID
    }
}
