import ArgumentParser

@main
struct AgentAuthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agentauth",
        abstract: "AgentAuth: credentials, tokens and delegation for AI agents.",
        version: AgentAuthVersion.current,
        subcommands: [
            InitCommand.self, ServeCommand.self, ConfigCommand.self, AgentsCommand.self, KeysCommand.self, ClientsCommand.self,
            SigningKeysCommand.self, AuditCommand.self, RateLimitsCommand.self, UsageCommand.self, VerifiersCommand.self, BackupCommand.self,
            OpenAPICommand.self,
        ]
    )
}
