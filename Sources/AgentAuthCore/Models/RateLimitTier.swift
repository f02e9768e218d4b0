/// A named request rate, defined by the operator (`PUT /admin/rate-limits/{name}`) and assigned
/// to agents, API keys and OAuth clients by name. Enforced with GCRA (`RateLimiter`): `requests`
/// per `windowSeconds` on average, at most `burst` at once from rest.
public struct RateLimitTier: Hashable, Sendable, Codable {
    public var name: String
    public var requests: Int
    public var windowSeconds: Int
    /// How many requests may come at once after a quiet spell; `requests` when not given.
    public var burst: Int

    public init(name: String, requests: Int, windowSeconds: Int, burst: Int? = nil) {
        self.name = name
        self.requests = requests
        self.windowSeconds = windowSeconds
        self.burst = burst ?? requests
    }

    enum CodingKeys: String, CodingKey {
        case name, requests, burst
        case windowSeconds = "window_seconds"
    }

    /// The average spacing between requests (GCRA's emission interval), in seconds.
    public var emissionInterval: Double { Double(windowSeconds) / Double(requests) }

    /// The name that means "no limit": assignable, never defined.
    public static let unlimitedName = "unlimited"

    /// Tiers every store starts with, so the names API keys have accepted since the first
    /// release keep their documented meaning.
    public static let builtIn: [RateLimitTier] = [
        RateLimitTier(name: "low", requests: 60, windowSeconds: 60),
        RateLimitTier(name: "standard", requests: 600, windowSeconds: 60),
        RateLimitTier(name: "high", requests: 6000, windowSeconds: 60),
    ]

    /// Limits on what a tier may say: names as in HTTP structured-field tokens, so they can be
    /// sent back in `RateLimit-Policy` as they are.
    public static let maxNameLength = 64
    public static let maxRequests = 1_000_000_000
    /// A month.
    public static let maxWindowSeconds = 31 * 86_400

    /// Whether `name` can name a tier: 1 to 64 of `A-Z a-z 0-9 . _ -`, starting with a letter.
    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...maxNameLength).contains(bytes.count), let first = bytes.first else { return false }
        guard (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first | 0x20) else { return false }
        return bytes.allSatisfy(\.isNameCharacter)
    }
}
