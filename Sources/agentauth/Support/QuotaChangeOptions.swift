import AgentAuthCore
import ArgumentParser

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
