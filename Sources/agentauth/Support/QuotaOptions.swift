import AgentAuthCore
import ArgumentParser

/// `--quota N [--quota-period hour|day|month]`: a quota for a new agent or key (period: a day
/// when not given).
struct QuotaOptions: ParsableArguments {
    @Option(help: "A quota: at most this many requests per --quota-period, counted across every resource server.") var quota: Int?
    @Option(help: "The quota's period (UTC): hour, day (the default) or month.") var quotaPeriod: String?

    func validate() throws {
        _ = try value()
    }

    /// The quota asked for; `nil` when none.
    func value() throws -> Quota? {
        guard let quota else {
            if quotaPeriod != nil { throw ValidationError("--quota-period needs --quota") }
            return nil
        }
        guard let period = Quota.Period(rawValue: quotaPeriod ?? Quota.Period.day.rawValue) else {
            throw ValidationError("--quota-period must be one of: \(Quota.Period.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return Quota(requests: quota, period: period)
    }
}
