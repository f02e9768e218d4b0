import AgentAuthCore
import ArgumentParser

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
