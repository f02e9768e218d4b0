/// Why a token was refused. Outside, every case is the same 401 `invalid_token` (or
/// `{"active":false}`); the reason is for logs and tests.
public enum TokenRejection: Error, Hashable, Sendable, CustomStringConvertible {
    case malformed(String)
    case header(String)
    case unknownKey
    case badSignature
    case claims(String)
    case expired
    case notYetValid
    case wrongIssuer
    case wrongAudience
    case revoked
    case agentDisabled
    /// Not the token's fault: the keys could not be obtained (issuer or store unreachable).
    /// Callers answer 503, not 401.
    case keysUnavailable

    public var description: String {
        switch self {
        case .malformed(let reason): "malformed token: \(reason)"
        case .header(let reason): "unacceptable header: \(reason)"
        case .unknownKey: "unknown signing key"
        case .badSignature: "signature does not verify"
        case .claims(let reason): "unacceptable claims: \(reason)"
        case .expired: "token expired"
        case .notYetValid: "token not yet valid"
        case .wrongIssuer: "wrong issuer"
        case .wrongAudience: "wrong audience"
        case .revoked: "token revoked"
        case .agentDisabled: "agent disabled"
        case .keysUnavailable: "verification keys unavailable"
        }
    }
}
