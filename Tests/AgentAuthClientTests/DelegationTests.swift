import AgentAuthCore
import AgentAuthTesting
import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Testing

@testable import AgentAuthClient

@Suite("Delegation through the SDK (RFC 8693)")
struct DelegationTests {
    @Test("delegate → a narrower, no-longer-lived token whose act names the sub-agent")
    func delegationNarrowsAndNamesTheSubAgent() async throws {
        try await TestServers.with { servers in
            let (orchestratorID, orchestrator) = try await servers.basicClient(agentName: "orchestrator")
            let (summarizerID, summarizer) = try await servers.basicClient(agentName: "summarizer")
            let parent = servers.manager(orchestrator)
            let parentToken = try await parent.accessToken()
            #expect(parentToken.scope == "billing:read conversations:read")

            let delegated = try await parent.delegate(scope: "conversations:read", to: summarizer)
            let token = try await delegated.accessToken()
            #expect(token.scope == "conversations:read")
            #expect(token.issuedTokenType == "urn:ietf:params:oauth:token-type:access_token")
            #expect(token.expiresAt <= parentToken.expiresAt)
            #expect(servers.faults.arrivals.map(\.grantType) == ["client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"])

            let introspection = try await servers.introspect(token.value)
            #expect(introspection["active"] as? Bool == true)
            #expect(introspection["sub"] as? String == orchestratorID, "sub stays the delegating agent")
            #expect((introspection["act"] as? [String: Any])?["sub"] as? String == summarizerID, "act names the sub-agent")
            let parentIntrospection = try await servers.introspect(parentToken.value)
            #expect((introspection["exp"] as? Int ?? .max) <= (parentIntrospection["exp"] as? Int ?? 0))

            #expect(try await servers.apiStatus(bearer: token.value) == 200)
            let client = AgentHTTPClient(tokens: delegated)
            #expect(try await client.execute(.GET, servers.api + "/v1/conversations").status == .ok)
        }
    }

    @Test("the delegated manager repeats the exchange near expiry, with a fresh parent token when the parent's is due too")
    func delegatedTokensRefresh() async throws {
        try await TestServers.with { servers in
            let (_, orchestrator) = try await servers.basicClient(agentName: "orchestrator", tokenTTL: 300)
            let (_, summarizer) = try await servers.basicClient(agentName: "summarizer", tokenTTL: 300)
            let parent = servers.manager(orchestrator)
            let delegated = try await parent.delegate(scope: "conversations:read", to: summarizer)
            let first = try await delegated.token()
            #expect(servers.faults.count == 2)
            servers.clock.advance(.seconds(245))
            #expect(try await delegated.token() == first, "still valid: handed out while the exchange is repeated behind")
            let second = try await AgentTokenManagerTests.waitForNewToken(delegated, replacing: first)
            #expect(servers.faults.count == 4)
            #expect(
                servers.faults.arrivals.map(\.grantType).suffix(2) == ["client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"],
                "the parent's token was inside its margin too, so it was refreshed first"
            )
            #expect(try await servers.apiStatus(bearer: second) == 200)
        }
    }

    @Test("a refused delegation throws at delegate(): more scope than the parent has → invalid_scope")
    func refusedDelegationThrows() async throws {
        try await TestServers.with { servers in
            let (_, orchestrator) = try await servers.basicClient(agentName: "orchestrator", scope: "conversations:read")
            let (_, summarizer) = try await servers.basicClient(agentName: "summarizer", scope: "billing:read")
            let parent = servers.manager(orchestrator)
            let error = await #expect(throws: TokenRequestError.self) {
                try await parent.delegate(scope: "billing:read", to: summarizer)
            }
            #expect(error?.code == .invalidScope)
        }
    }

    @Test("revoking the parent's token cuts off the delegated one at the API")
    func revokingTheParentCascades() async throws {
        try await TestServers.with { servers in
            let (_, orchestrator) = try await servers.basicClient(agentName: "orchestrator")
            let (_, summarizer) = try await servers.basicClient(agentName: "summarizer")
            let parent = servers.manager(orchestrator)
            let delegated = try await parent.delegate(scope: "conversations:read", to: summarizer)
            let token = try await delegated.token()
            #expect(try await servers.apiStatus(bearer: token) == 200)
            try await servers.revoke(try await parent.token())
            try await AgentHTTPClientTests.waitUntilRefused(servers, token)

            // The agents themselves are still in good standing: the delegated client recovers,
            // through a new parent token, in one call.
            let before = servers.faults.count
            let response = try await AgentHTTPClient(tokens: delegated).execute(.GET, servers.api + "/v1/conversations")
            #expect(response.status == .ok)
            #expect(
                servers.faults.arrivals.dropFirst(before).map(\.grantType) == [
                    "urn:ietf:params:oauth:grant-type:token-exchange", "client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange",
                ],
                "the exchange with the revoked parent token was refused, the parent got a new one, the exchange was repeated"
            )
        }
    }

    @Test("delegation from a manager that discovered its endpoint; a may_act policy refusing the sub-agent → access_denied")
    func discoveryAndPolicy() async throws {
        try await TestServers.with { servers in
            let (orchestratorID, orchestrator) = try await servers.basicClient(agentName: "orchestrator")
            let (_, summarizer) = try await servers.basicClient(agentName: "summarizer")
            let parent = servers.manager(orchestrator, discover: true)
            let delegated = try await parent.delegate(scope: "conversations:read", to: summarizer)
            #expect(try await servers.apiStatus(bearer: try await delegated.token()) == 200)

            _ = try await DelegationAdministration(store: servers.store).setDelegationPolicy(agentID: orchestratorID, mayAct: [], by: .test)
            let error = await #expect(throws: TokenRequestError.self) {
                try await parent.delegate(scope: "conversations:read", to: summarizer)
            }
            #expect(error?.code == .accessDenied)
        }
    }
}
