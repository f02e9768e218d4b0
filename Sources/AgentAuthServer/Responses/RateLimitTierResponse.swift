public import AgentAuthCore
public import Hummingbird

/// A rate-limit tier as the admin API shows it: `{"name","requests","window_seconds","burst"}`.
public struct RateLimitTierResponse: ResponseEncodable, Sendable {
    public let tier: RateLimitTier

    public init(_ tier: RateLimitTier) {
        self.tier = tier
    }

    public func encode(to encoder: any Encoder) throws {
        try tier.encode(to: encoder)
    }
}

/// `GET /admin/rate-limits`: `{"rate_limits":[…]}`, by name.
public struct RateLimitTierListResponse: ResponseEncodable, Sendable {
    public let rateLimits: [RateLimitTierResponse]

    public init(_ tiers: [RateLimitTier]) {
        rateLimits = tiers.map(RateLimitTierResponse.init)
    }

    enum CodingKeys: String, CodingKey {
        case rateLimits = "rate_limits"
    }
}
