import AgentAuthCore
import AgentAuthServer
import ArgumentParser
import Foundation
import Hummingbird
import Logging

/// `agentauth serve`: runs the server, initialising an empty database first.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the AgentAuth server.")

    @OptionGroup var store: StoreOptions

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port: Int = 8080

    @Option(help: "Issuer URL of the tokens this server signs (default http://HOST:PORT).")
    var issuer: String?

    @Option(help: "Audience every client may request by default.")
    var defaultAudience: String = "agentauth"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        var logger = Logger(label: "agentauth")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let store = try await store.openStore(create: true)
        if let (agent, key) = try await AgentAdministration(store: store).initialize() {
            Bootstrap.printBanner(agentID: agent.id, adminKey: key.plaintext, location: self.store.location)
        }
        FileHandle.standardOutput.write(Data("AgentAuth listening on http://\(host):\(port)\n".utf8))
        let app = buildApplication(configuration: ServerConfiguration(host: host, port: port), store: store, logger: logger)
        try await app.runService()
    }
}
