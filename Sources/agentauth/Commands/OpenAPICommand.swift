import AgentAuthServer
import ArgumentParser

/// `agentauth openapi`: the OpenAPI document the server serves at `GET /openapi.json`, without
/// a database or a running server (for API tooling, clients generators and fuzzers).
struct OpenAPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openapi",
        abstract: "Print the OpenAPI 3.1 document of the auth server's HTTP API (what GET /openapi.json serves)."
    )

    func run() {
        print(OpenAPIDocument.json, terminator: "")
    }
}
