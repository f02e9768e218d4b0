import AgentAuthTesting
import AsyncHTTPClient
import Foundation
import Testing

/// `agentauth serve` started as a user would, on a free port, with the admin key it printed.
struct AuthServerProcess {
    let process: RunningProcess
    let base: String
    let adminKey: String
    let port: Int

    /// Admin headers for JSON requests.
    var admin: [(String, String)] { [("X-API-Key", adminKey), ("Content-Type", "application/json")] }

    /// With `client`, over HTTPS (the arguments give `--tls-cert` and `--tls-key`), through
    /// that client, which trusts the server's certificate.
    static func start(
        in directory: URL,
        arguments: [String] = [],
        launcher: [String] = [],
        client: HTTPClient? = nil
    ) async throws -> AuthServerProcess {
        let port = try LoopbackPort.free()
        let process = try await RunningProcess("agentauth", ["serve", "--port", "\(port)"] + arguments, in: directory, launcher: launcher)
        try await process.waitForOutput("AgentAuth listening")
        guard let adminKey = process.output.firstMatch(of: /sk-agent-[0-9A-Za-z]{49}/).map({ String($0.output) }) else {
            throw CLIFailure("serve printed no admin key:\n\(process.output)")
        }
        let base = "\(client == nil ? "http" : "https")://127.0.0.1:\(port)"
        try await WalkthroughTests.waitUntilHealthy(base, client: client ?? .shared)
        return AuthServerProcess(process: process, base: base, adminKey: adminKey, port: port)
    }
}
