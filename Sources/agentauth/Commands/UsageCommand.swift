import AgentAuthCore
import AgentAuthServer
import ArgumentParser

/// `agentauth usage AGENT [--period day]`: what an agent used in the current period.
struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage",
        abstract: "Show what an agent used in the current hour, day or month (UTC), as resource servers reported it."
    )
    @OptionGroup var options: ReadOptions
    @Argument(help: "Agent id (agt_…).") var agentID: String
    @Option(help: "hour, day (the default) or month.") var period = Quota.Period.day.rawValue

    func validate() throws {
        guard Quota.Period(rawValue: period) != nil else {
            throw ValidationError("--period must be one of: \(Quota.Period.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        let period = Quota.Period(rawValue: period) ?? .day
        let usage = try await options.read { try await AgentAdministration(store: $0).usage(agentID: agentID, period: period) }
        try Output.usage(usage, period: period, json: options.output.json)
    }
}
