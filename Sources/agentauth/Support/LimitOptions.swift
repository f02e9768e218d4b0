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

/// `--rate-limit T | --no-rate-limit`: a change of tier (neither: unchanged).
struct RateLimitChangeOptions: ParsableArguments {
    @Option(help: "Assign this rate-limit tier (a defined tier, or unlimited).") var rateLimit: String?
    @Flag(help: "Remove the rate-limit tier.") var noRateLimit = false

    func validate() throws {
        if rateLimit != nil, noRateLimit { throw ValidationError("use one of --rate-limit, --no-rate-limit") }
    }

    var patch: FieldPatch<String> {
        if noRateLimit { return .removed }
        return rateLimit.map { .set($0) } ?? .unchanged
    }
}

/// `--quota N [--quota-period P] | --no-quota`: a change of quota (neither: unchanged).
struct QuotaChangeOptions: ParsableArguments {
    @OptionGroup var quota: QuotaOptions
    @Flag(help: "Remove the quota.") var noQuota = false

    func validate() throws {
        if quota.quota != nil, noQuota { throw ValidationError("use one of --quota, --no-quota") }
    }

    func patch() throws -> FieldPatch<Quota> {
        if noQuota { return .removed }
        return try quota.value().map { .set($0) } ?? .unchanged
    }
}
