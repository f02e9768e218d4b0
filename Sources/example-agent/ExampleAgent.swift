import AgentAuthClient
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A research agent that reads conversations from the example agent API for as long as it
/// runs, across as many token lifetimes as that takes, and hands a summariser sub-agent a
/// narrower token of its own.
///
/// Configuration, from the environment:
/// - `AGENTAUTH_ISSUER`: the auth server, e.g. `http://127.0.0.1:8080`
/// - `AGENT_CLIENT_ID`, `AGENT_CLIENT_SECRET`: this agent's OAuth client
/// - `AGENT_API`: the API to call, e.g. `http://127.0.0.1:8081`
/// - `AGENT_ROUNDS` (default 3), `AGENT_INTERVAL_SECONDS` (default 1)
/// - `SUB_AGENT_CLIENT_ID`, `SUB_AGENT_CLIENT_SECRET`: the sub-agent's client (optional)
@main
struct ExampleAgent {
    static func main() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let issuer = environment["AGENTAUTH_ISSUER"], let clientID = environment["AGENT_CLIENT_ID"],
            let clientSecret = environment["AGENT_CLIENT_SECRET"], var apiBase = environment["AGENT_API"]
        else {
            print("set AGENTAUTH_ISSUER, AGENT_CLIENT_ID, AGENT_CLIENT_SECRET and AGENT_API")
            exit(64)
        }
        while apiBase.hasSuffix("/") { apiBase.removeLast() }
        let rounds = Int(environment["AGENT_ROUNDS"] ?? "") ?? 3
        let interval = Int(environment["AGENT_INTERVAL_SECONDS"] ?? "") ?? 1

        // One manager per agent identity: it finds the token endpoint through the issuer's
        // metadata, caches the token and refreshes it 60 s before it expires.
        let tokens = AgentTokenManager(
            issuer: issuer,
            clientID: clientID,
            clientSecret: clientSecret,
            scope: "conversations:read billing:read"
        )
        // Adds the Bearer token to every request; on a 401 invalid_token (say the token was
        // revoked) it gets a fresh token and tries once more.
        let client = AgentHTTPClient(tokens: tokens)

        do {
            for round in 1...max(1, rounds) {
                let response = try await client.execute(.GET, apiBase + "/v1/conversations")
                let body = try await response.body.collect(upTo: 1 << 20)
                print("round \(round): \(response.status.code) \(String(buffer: body))")
                if round < rounds { try await Task.sleep(for: .seconds(interval)) }
            }

            if let subID = environment["SUB_AGENT_CLIENT_ID"], let subSecret = environment["SUB_AGENT_CLIENT_SECRET"] {
                // The summariser may read conversations and nothing else, for no longer than this
                // agent's own token lives; its token names it in `act`.
                let summarizer = try await tokens.delegate(
                    scope: "conversations:read",
                    to: .clientSecretBasic(clientID: subID, clientSecret: subSecret)
                )
                let delegated = try await summarizer.accessToken()
                print("delegated scope: \(delegated.scope ?? "")")
                let response = try await AgentHTTPClient(tokens: summarizer).execute(.GET, apiBase + "/v1/conversations")
                print("sub-agent: \(response.status.code)")
            }
        } catch let error as TokenRequestError {
            // The server refused: wrong secret (invalid_client), scope not allowed (invalid_scope), …
            print("the auth server refused: \(error)")
            exit(1)
        } catch let error as AgentAuthClientError {
            print("no token: \(error)")
            exit(1)
        }
    }
}
