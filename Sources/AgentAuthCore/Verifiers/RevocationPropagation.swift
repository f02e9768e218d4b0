/// How far a change has reached the verifiers: what a confirmed revocation answers with.
public struct RevocationPropagation: Hashable, Sendable, Codable {
    /// Live verifiers that acknowledged the change.
    public var confirmed: Int
    /// Live verifiers that had not acknowledged it when the wait ended (their ids, sorted).
    public var pending: [String]
    /// How long the answer waited for them.
    public var waited: Duration

    public init(confirmed: Int, pending: [String], waited: Duration) {
        self.confirmed = confirmed
        self.pending = pending
        self.waited = waited
    }

    /// `waited` in whole milliseconds.
    public var waitedMilliseconds: Int { Int(waited / .milliseconds(1)) }

    enum CodingKeys: String, CodingKey {
        case confirmed, pending
        case waitedMilliseconds = "waited_ms"
    }

    /// As the admin API and the CLI show it: `{"confirmed", "pending", "waited_ms"}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(confirmed, forKey: .confirmed)
        try container.encode(pending, forKey: .pending)
        try container.encode(waitedMilliseconds, forKey: .waitedMilliseconds)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        confirmed = try container.decode(Int.self, forKey: .confirmed)
        pending = try container.decode([String].self, forKey: .pending)
        waited = .milliseconds(try container.decode(Int.self, forKey: .waitedMilliseconds))
    }
}
