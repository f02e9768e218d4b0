public import Foundation

/// An AI agent: the owner of every credential. There are no shared service accounts.
public struct Agent: Hashable, Sendable, Codable {
    public enum Status: String, Hashable, Sendable, Codable {
        case active
        case disabled
    }

    public var id: String
    public var name: String
    public var status: Status
    public var createdAt: Date
    /// The latest time the agent was disabled. Kept after re-enabling: tokens issued
    /// before it stay dead (DESIGN.md "Access tokens").
    public var disabledAt: Date?
    /// The rate-limit tier applied to the agent across all of its credentials.
    public var rateLimit: String?
    /// The agent's budget across all of its credentials.
    public var quota: Quota?

    public init(
        id: String,
        name: String,
        status: Status,
        createdAt: Date,
        disabledAt: Date? = nil,
        rateLimit: String? = nil,
        quota: Quota? = nil
    ) {
        self.id = id
        self.name = name
        self.status = status
        self.createdAt = createdAt
        self.disabledAt = disabledAt
        self.rateLimit = rateLimit
        self.quota = quota
    }

    /// The longest agent name accepted.
    public static let maxNameLength = 200
}
