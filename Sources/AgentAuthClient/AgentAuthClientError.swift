/// A token could not be had for a reason other than the server's refusal.
public enum AgentAuthClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The endpoint stayed unreachable or answered 5xx through every attempt of the retry policy
    /// (or asked, with `Retry-After`, for a longer wait than the policy allows).
    case unavailable(attempts: Int, reason: String)
    /// A 2xx answer that is not a usable token response (RFC 6749 §5.1).
    case invalidResponse(String)
    /// RFC 8414 discovery failed: no metadata, or metadata for another issuer.
    case discoveryFailed(String)

    public var description: String {
        switch self {
        case .unavailable(let attempts, let reason): "token endpoint unavailable after \(attempts) attempt(s): \(reason)"
        case .invalidResponse(let reason): "invalid token response: \(reason)"
        case .discoveryFailed(let reason): "authorization server discovery failed: \(reason)"
        }
    }
}
