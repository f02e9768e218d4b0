/// The request-rate tier of an API key. The names are the contract; what each allows
/// per minute is documented in docs/api-keys.md and enforced by the rate limiter.
public enum RateLimitTier: String, CaseIterable, Hashable, Sendable, Codable {
    case low
    case standard
    case high
    case unlimited

    public var requestsPerMinute: Int? {
        switch self {
        case .low: 60
        case .standard: 600
        case .high: 6000
        case .unlimited: nil
        }
    }
}
