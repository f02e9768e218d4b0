/// Why a presented credential was refused. Callers outside must not learn which one:
/// every case answers the same 401 (or `{"active":false}`); the reason is for logs and audit.
public enum CredentialRejection: Error, Hashable, Sendable, CustomStringConvertible {
    case malformed
    case unknown
    case revoked
    case expired
    case agentDisabled

    public var description: String {
        switch self {
        case .malformed: "malformed credential"
        case .unknown: "unknown credential"
        case .revoked: "revoked credential"
        case .expired: "expired credential"
        case .agentDisabled: "agent disabled"
        }
    }
}
