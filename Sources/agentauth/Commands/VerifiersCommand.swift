import AgentAuthCore
import AgentAuthServer
import ArgumentParser

/// `agentauth verifiers [--json]`: the processes following the revocation feed, as
/// `GET /admin/verifiers` lists them.
struct VerifiersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verifiers",
        abstract: "List the verifiers following the revocation feed: status (live, stale, gone), cursor and lag."
    )
    @OptionGroup var options: ReadOptions

    func run() async throws {
        let standings = try await options.read { try await VerifierRegistry(store: $0).standings() }
        try Output.verifiers(standings, json: options.output.json)
    }
}
