import ArgumentParser
import Foundation

/// `agentauth config show [--json] [serve's flags, --config FILE included]`: each setting of
/// `serve`, its value and where it came from, resolved exactly as `serve` resolves it; secrets
/// are redacted and a database URL is shown without its password.
struct ConfigShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print each setting of `serve`, its value and its source (flag, env, file, default); secrets redacted."
    )

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Argument(parsing: .allUnrecognized, help: "Any flag of `serve`, e.g. --config agentauth.json --port 9000.")
    var serveArguments: [String] = []

    struct Shown: Encodable {
        let name: String
        let value: String?
        let source: SettingSource
        let origin: String
    }

    func run() async throws {
        let serve: ServeCommand
        do {
            serve = try ServeCommand.parse(serveArguments)
        } catch {
            throw CLIError(ServeCommand.message(for: error))
        }
        let settings = try await ServeCommand.settings.resolve(serve, configFile: serve.configPath)
        let shown = settings.entries.map { Shown(name: $0.name, value: $0.shown, source: $0.source, origin: $0.origin) }
        if json {
            try Output.json(["settings": shown])
        } else {
            Output.table(
                ["SETTING", "VALUE", "SOURCE"],
                shown.map { [$0.name, $0.value ?? "-", $0.source == .default ? "default" : "\($0.source.rawValue) (\($0.origin))"] }
            )
        }
    }
}
