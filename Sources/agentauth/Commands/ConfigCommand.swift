import ArgumentParser

/// `agentauth config show`: the configuration `serve` would run with.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Show the effective configuration of `serve`.",
        subcommands: [ConfigShowCommand.self]
    )
}
