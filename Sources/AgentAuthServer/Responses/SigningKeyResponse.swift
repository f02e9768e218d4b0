public import AgentAuthCore
public import Foundation
public import Hummingbird

/// A signing key as the admin API shows it (public information only). `status` is where the
/// key stands in the signing schedule at the time of the answer: `pending` (published, signs
/// from `activates_at`), `active` (signs; its `retired_at` is set, in the future, while a
/// pending key waits to take over) or `retired` (verifies until `published_until`).
public struct SigningKeyResponse: ResponseEncodable, Sendable {
    public let kid: String
    public let algorithm: String
    public let status: String
    public let createdAt: Date
    public let activatesAt: Date?
    public let retiredAt: Date?
    public let publishedUntil: Date?

    /// - Parameter schedule: every stored key, which tells when `key` signs.
    public init(_ key: SigningKey, schedule: SigningKeySchedule, at date: Date) {
        let phase = schedule.phase(of: key, at: date)
        kid = key.kid
        algorithm = key.algorithm.rawValue
        status = phase.rawValue
        createdAt = key.createdAt
        activatesAt = phase == .pending ? schedule.activation(of: key) : nil
        retiredAt = key.retiredAt
        publishedUntil = key.publishedUntil
    }

    enum CodingKeys: String, CodingKey {
        case kid, algorithm, status
        case createdAt = "created_at"
        case activatesAt = "activates_at"
        case retiredAt = "retired_at"
        case publishedUntil = "published_until"
    }
}

public struct SigningKeyListResponse: ResponseEncodable, Sendable {
    public let keys: [SigningKeyResponse]

    /// - Parameter keys: every stored key, in the order to list them.
    public init(_ keys: [SigningKey], at date: Date) {
        let schedule = SigningKeySchedule(keys)
        self.keys = keys.map { SigningKeyResponse($0, schedule: schedule, at: date) }
    }
}
