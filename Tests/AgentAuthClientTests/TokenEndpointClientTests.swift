import AgentAuthCore
import Foundation
import NIOHTTP1
import Testing

@testable import AgentAuthClient

@Suite("Token responses, Retry-After and RFC 8414 metadata")
struct TokenEndpointClientTests {
    static func parse(_ json: String) throws -> AccessToken {
        try TokenEndpointClient.accessToken(from: Data(json.utf8), receivedAt: .now, lifetimeWhenUnstated: .seconds(300))
    }

    @Test(
        "usable token responses and their lifetimes",
        arguments: [
            (#"{"access_token":"a.b.c","token_type":"Bearer","expires_in":1800}"#, Duration.seconds(1800)),
            (#"{"access_token":"a.b.c","token_type":"bearer","expires_in":"90"}"#, .seconds(90)),
            (#"{"access_token":"a.b.c","token_type":"Bearer"}"#, .seconds(300)),
            (#"{"access_token":"a.b.c","token_type":"Bearer","expires_in":null}"#, .seconds(300)),
            (#"{"access_token":"a.b.c","token_type":"Bearer","expires_in":1e300}"#, .seconds(86_400)),
            (#"{"access_token":"a.b.c","token_type":"Bearer","expires_in":2.5}"#, .milliseconds(2500)),
        ]
    )
    func usable(json: String, lifetime: Duration) throws {
        #expect(try Self.parse(json).lifetime == lifetime)
    }

    @Test(
        "unusable token responses → invalidResponse (never a crash)",
        arguments: [
            #"{"access_token":"a.b.c","token_type":"Bearer","expires_in":0}"#,
            #"{"access_token":"a.b.c","token_type":"Bearer","expires_in":-5}"#,
            #"{"access_token":"a.b.c","token_type":"Bearer","expires_in":"inf"}"#,
            #"{"access_token":"a.b.c","token_type":"Bearer","expires_in":"nan"}"#,
            #"{"access_token":"a.b.c","token_type":"Bearer","expires_in":"+5"}"#,
            #"{"access_token":"a.b.c","token_type":"Bearer","expires_in":true}"#,
            #"{"access_token":"a.b.c","token_type":"N_A","expires_in":60}"#,
            #"{"access_token":"a.b.c","token_type":"DPoP","expires_in":60}"#,
            #"{"access_token":"","token_type":"Bearer","expires_in":60}"#,
            #"{"access_token":"a b","token_type":"Bearer","expires_in":60}"#,
            #"{"token_type":"Bearer","expires_in":60}"#,
            #"{"access_token":"a.b.c","token_type":"Bearer","expires_in":60,"issued_token_type":"urn:ietf:params:oauth:token-type:id_token"}"#,
            #"["access_token"]"#,
            "not json",
        ]
    )
    func unusable(json: String) {
        #expect(throws: AgentAuthClientError.self) { try Self.parse(json) }
    }

    @Test("Retry-After: delay-seconds and all three HTTP-date formats (RFC 9110 §5.6.7); nonsense ignored")
    func retryAfter() throws {
        let now = try #require(ISO8601DateFormatter().date(from: "1994-11-06T08:49:00Z"))
        func wait(_ value: String) -> Duration? {
            TokenEndpointClient.retryAfter(HTTPHeaders([("Retry-After", value)]), now: now)
        }
        #expect(wait("120") == .seconds(120))
        #expect(wait(" 7 ") == .seconds(7))
        #expect(wait("Sun, 06 Nov 1994 08:49:37 GMT") == .seconds(37))
        #expect(wait("Sunday, 06-Nov-94 08:49:37 GMT") == .seconds(37))
        #expect(wait("Sun Nov  6 08:49:37 1994") == .seconds(37))
        #expect(wait("Sun, 06 Nov 1994 08:48:00 GMT") == .zero, "a past date: no wait")
        #expect(wait("+5") == nil)
        #expect(wait("-5") == nil)
        #expect(wait("soon") == nil)
        #expect(TokenEndpointClient.retryAfter(HTTPHeaders(), now: now) == nil)
    }

    @Test("the metadata URL puts the well-known segment between host and path (RFC 8414 §3.1)")
    func metadataURL() {
        #expect(TokenEndpointClient.metadataURL(issuer: "https://auth.example") == "https://auth.example/.well-known/oauth-authorization-server")
        #expect(TokenEndpointClient.metadataURL(issuer: "https://auth.example/") == "https://auth.example/.well-known/oauth-authorization-server")
        #expect(
            TokenEndpointClient.metadataURL(issuer: "https://auth.example:8443/tenant%20a")
                == "https://auth.example:8443/.well-known/oauth-authorization-server/tenant%20a"
        )
        #expect(TokenEndpointClient.metadataURL(issuer: "http://[::1]:8080") == "http://[::1]:8080/.well-known/oauth-authorization-server")
        #expect(TokenEndpointClient.metadataURL(issuer: "https://auth.example?x=1") == nil, "an issuer has no query (RFC 8414 §2)")
        #expect(TokenEndpointClient.metadataURL(issuer: "https://auth.example#f") == nil)
        #expect(TokenEndpointClient.metadataURL(issuer: "ftp://auth.example") == nil)
    }

    static func metadata(_ json: String) throws -> TokenEndpointClient.Metadata {
        try JSONDecoder().decode(TokenEndpointClient.Metadata.self, from: Data(json.utf8))
    }

    @Test("metadata is used only when it is the issuer's own, no weaker than it, and takes the client's method")
    func metadataChecks() throws {
        let issuer = "https://auth.example"
        let good = try Self.metadata(#"{"issuer":"https://auth.example","token_endpoint":"https://auth.example/oauth/token"}"#)
        #expect(try TokenEndpointClient.tokenEndpoint(in: good, issuer: issuer, method: .clientSecretBasic) == "https://auth.example/oauth/token")
        let refusals = [
            (#"{"issuer":"https://evil.example","token_endpoint":"https://evil.example/t"}"#, ClientAuthMethod.clientSecretBasic),
            (#"{"issuer":"https://auth.example/","token_endpoint":"https://auth.example/t"}"#, .clientSecretBasic),
            (#"{"issuer":"https://auth.example"}"#, .clientSecretBasic),
            (#"{"issuer":"https://auth.example","token_endpoint":"http://auth.example/oauth/token"}"#, .clientSecretBasic),
            (#"{"issuer":"https://auth.example","token_endpoint":"/oauth/token"}"#, .clientSecretBasic),
            (#"{"issuer":"https://auth.example","token_endpoint":"javascript:alert(1)"}"#, .clientSecretBasic),
            (#"{"issuer":"https://auth.example","token_endpoint":"https://auth.example/t"}"#, .privateKeyJWT),
            (
                #"{"issuer":"https://auth.example","token_endpoint":"https://auth.example/t","token_endpoint_auth_methods_supported":["private_key_jwt"]}"#,
                .clientSecretPost
            ),
        ]
        for (json, method) in refusals {
            #expect(throws: AgentAuthClientError.self, "\(json)") {
                try TokenEndpointClient.tokenEndpoint(in: try Self.metadata(json), issuer: issuer, method: method)
            }
        }
    }
}
