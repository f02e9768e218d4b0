/// The JWS algorithms AgentAuth signs access tokens with (RFC 8037 EdDSA, RFC 7518 ES256).
public enum SigningAlgorithm: String, CaseIterable, Hashable, Sendable, Codable {
    case eddsa = "EdDSA"
    case es256 = "ES256"
}
