import AgentAuthTesting
import Foundation
import NIOHTTP1
import Testing

/// docs/sdk.md's complete agent, run as a process against `agentauth serve` and
/// `example-agent-api`, configured as the document says.
@Suite("The SDK's example agent")
struct ExampleAgentTests {
    @Test("example-agent discovers the token endpoint, calls the API, and delegates to a sub-agent")
    func exampleAgentRuns() async throws {
        try await withTemporaryDirectory { directory in
            let started = try await AuthServerProcess.start(in: directory)
            defer { started.process.stop() }
            let auth = started.base
            let admin = started.admin
            func client(agent name: String, scope: String) async throws -> (id: String, secret: String) {
                let agent = try await HTTP.send(.POST, "\(auth)/admin/agents", headers: admin, body: #"{"name":"\#(name)"}"#)
                let agentID = try #require(agent.json["id"] as? String)
                let client = try await HTTP.send(.POST, "\(auth)/admin/agents/\(agentID)/clients", headers: admin, body: #"{"scope":"\#(scope)"}"#)
                #expect(client.status == 201)
                return (try #require(client.json["client_id"] as? String), try #require(client.json["client_secret"] as? String))
            }
            let research = try await client(agent: "research-agent", scope: "conversations:read billing:read")
            let summarizer = try await client(agent: "summarizer", scope: "conversations:read")
            let example = try await ExampleAPIProcess.start(authServer: auth, admin: admin, in: directory)
            let exampleAPI = example.process
            defer { exampleAPI.stop() }
            let api = example.base

            let agent = try await RunningProcess(
                "example-agent",
                [],
                in: directory,
                environment: [
                    "AGENTAUTH_ISSUER": auth, "AGENT_API": api, "AGENT_CLIENT_ID": research.id, "AGENT_CLIENT_SECRET": research.secret,
                    "AGENT_ROUNDS": "2", "AGENT_INTERVAL_SECONDS": "0",
                    "SUB_AGENT_CLIENT_ID": summarizer.id, "SUB_AGENT_CLIENT_SECRET": summarizer.secret,
                ]
            )
            defer { agent.stop() }
            try await agent.waitForOutput("sub-agent: ")
            try await Self.waitForExit(agent)
            #expect(agent.process.terminationStatus == 0, "\(agent.output)")
            #expect(agent.output.contains("round 1: 200"))
            #expect(agent.output.contains("round 2: 200"))
            #expect(agent.output.contains("delegated scope: conversations:read"))
            #expect(agent.output.contains("sub-agent: 200"))
            #expect(!agent.output.contains("cs-agent-"), "no secret in the agent's output")

            let wrong = try await RunningProcess(
                "example-agent",
                [],
                in: directory,
                environment: ["AGENTAUTH_ISSUER": auth, "AGENT_API": api, "AGENT_CLIENT_ID": research.id, "AGENT_CLIENT_SECRET": summarizer.secret]
            )
            defer { wrong.stop() }
            try await wrong.waitForOutput("the auth server refused: invalid_client")
            try await Self.waitForExit(wrong)
            #expect(wrong.process.terminationStatus == 1)
        }
    }

    static func waitForExit(_ process: RunningProcess) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while process.process.isRunning {
            guard ContinuousClock.now < deadline else { throw CLIFailure("example-agent did not exit; output:\n\(process.output)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
