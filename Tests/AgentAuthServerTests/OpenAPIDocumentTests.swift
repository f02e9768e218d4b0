import AgentAuthCore
import AgentAuthHTTP
import AgentAuthServer
import AgentAuthTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OpenAPIKit
import Testing

/// The OpenAPI document (docs/openapi.json, served at `GET /openapi.json`): valid, the same in
/// both places, naming every route of the router and no other, and describing real answers.
@Suite("OpenAPI document")
struct OpenAPIDocumentTests {
    static let committedPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/openapi.json").path

    /// The OAuth endpoints answer every other method with 405 and `Allow: POST` (SECURITY-CASES 9):
    /// routes of the router, described in the POST operation rather than as operations of their own.
    static let postOnlyPaths = ["/oauth/token", "/oauth/introspect", "/oauth/revoke", "/oauth/usage"]
    static let refusedMethods = Set(postOnlyPaths.flatMap { path in ["GET", "PUT", "DELETE", "PATCH"].map { "\($0) \(path)" } })

    /// Documented here, added to the router by the metrics work (DESIGN.md "Operations"); the only
    /// documented route a router may lack.
    static let metricsRoute = "GET /metrics"

    @Test("GET /openapi.json serves docs/openapi.json byte for byte, as application/json, without credentials")
    func servedIsCommitted() async throws {
        let committed = try #require(FileManager.default.contents(atPath: Self.committedPath))
        try await TestEnvironment.with { env in
            try await env.test { api in
                let response = try await api.request(.get, "/openapi.json")
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                #expect(Data(response.body.readableBytesView) == committed, "run scripts/embed-openapi.sh after editing docs/openapi.json")
            }
        }
    }

    @Test("OpenAPIKit reads the served document as OpenAPI 3.1 and validates it; every reference resolves")
    func validOpenAPI() throws {
        let document = try JSONDecoder().decode(OpenAPI.Document.self, from: Data(OpenAPIDocument.json.utf8))
        #expect(document.openAPIVersion == .v3_1_0)
        try document.validate()
        let dereferenced = try document.locallyDereferenced()
        #expect(dereferenced.paths.count == document.paths.count)
        // Each operation names its answers, and documents the errors its route can give.
        for (path, item) in dereferenced.paths {
            for endpoint in item.endpoints {
                #expect(!endpoint.operation.responses.isEmpty, "\(endpoint.method) \(path.rawValue) documents no answer")
                #expect(endpoint.operation.operationId != nil, "\(endpoint.method) \(path.rawValue) has no operationId")
            }
        }
    }

    @Test("every route of the router is in the document, and every documented route is in the router")
    func routesMatchRouter() async throws {
        try await TestEnvironment.with { env in
            let router = try await env.server.router(env.server.components(env.configuration()))
            let routed = Set(router.routes.map { "\($0.method.rawValue) \($0.path)" })
            let documented = try Self.documentedRoutes()
            #expect(routed.count > 40)
            let undocumented = routed.subtracting(documented).subtracting(Self.refusedMethods)
            #expect(undocumented.isEmpty, "routes missing from docs/openapi.json: \(undocumented.sorted())")
            let unrouted = documented.subtracting(routed).subtracting([Self.metricsRoute])
            #expect(unrouted.isEmpty, "documented routes the router lacks: \(unrouted.sorted())")
            #expect(routed.isSuperset(of: Self.refusedMethods))
            // The refusals really are 405s, as the POST operations say.
            try await env.test { api in
                for path in Self.postOnlyPaths {
                    let response = try await api.request(.get, path)
                    #expect(response.status == .methodNotAllowed)
                    #expect(response.headers[.allow] == "POST")
                }
            }
        }
    }

    @Test("real answers conform to the schemas the document gives them")
    func answersConform() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let schemas = try SchemaConformance(json: OpenAPIDocument.json)
                func check(_ response: TestResponse, _ method: String, _ path: String, _ file: String = #fileID, line: Int = #line) throws {
                    let location = SourceLocation(fileID: file, filePath: #filePath, line: line, column: 1)
                    let schema = try #require(
                        schemas.responseSchema(method, path, status: Int(response.status.code)),
                        "\(method) \(path) does not document \(response.status.code)",
                        sourceLocation: location
                    )
                    let body = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))
                    let problems = schemas.problems(body, schema)
                    #expect(problems.isEmpty, "\(method) \(path) \(response.status.code): \(problems)", sourceLocation: location)
                }
                try check(try await api.request(.get, "/healthz"), "GET", "/healthz")
                try check(try await api.request(.get, "/readyz"), "GET", "/readyz")
                try check(try await api.request(.get, "/.well-known/oauth-authorization-server"), "GET", "/.well-known/oauth-authorization-server")
                try check(try await api.request(.get, "/.well-known/jwks.json"), "GET", "/.well-known/jwks.json")

                let created = try await api.admin(
                    .post,
                    "/admin/agents",
                    json: #"{"name":"billing","rate_limit":"standard","quota":{"requests":5,"period":"day"}}"#
                )
                try check(created, "POST", "/admin/agents")
                let agent = try #require(created.object["id"] as? String)
                try check(try await api.admin(.post, "/admin/agents/\(agent)/disable"), "POST", "/admin/agents/{agent}/disable")
                try check(try await api.admin(.post, "/admin/agents/\(agent)/enable"), "POST", "/admin/agents/{agent}/enable")
                try check(try await api.admin(.patch, "/admin/agents/\(agent)", json: #"{"quota":null}"#), "PATCH", "/admin/agents/{agent}")
                try check(try await api.admin(.get, "/admin/agents?limit=5"), "GET", "/admin/agents")
                try check(try await api.admin(.get, "/admin/agents/agt_none"), "GET", "/admin/agents/{agent}")
                try check(try await api.admin(.get, "/admin/agents/\(agent)/usage?period=month"), "GET", "/admin/agents/{agent}/usage")

                let key = try await api.admin(
                    .post,
                    "/admin/agents/\(agent)/keys",
                    json: #"{"scopes":["introspect"],"name":"verifier","expires_in":3600}"#
                )
                try check(key, "POST", "/admin/agents/{agent}/keys")
                let keyID = try #require(key.object["id"] as? String)
                let plaintext = try #require(key.object["key"] as? String)
                let rolled = try await api.admin(.post, "/admin/keys/\(keyID)/roll", json: #"{"grace_seconds":60}"#)
                try check(rolled, "POST", "/admin/keys/{key}/roll")
                try check(try await api.admin(.get, "/admin/agents/\(agent)/keys"), "GET", "/admin/agents/{agent}/keys")
                try check(try await api.admin(.post, "/admin/keys/\(keyID)/revoke"), "POST", "/admin/keys/{key}/revoke")
                try check(try await api.admin(.patch, "/admin/keys/\(keyID)", json: #"{"name":"x"}"#), "PATCH", "/admin/keys/{key}")

                let client = try await api.admin(.post, "/admin/agents/\(agent)/clients", json: #"{"scope":"orders:read","client_name":"billing"}"#)
                try check(client, "POST", "/admin/agents/{agent}/clients")
                let clientID = try #require(client.object["client_id"] as? String)
                let secret = try #require(client.object["client_secret"] as? String)
                let rotated = try await api.admin(.post, "/admin/clients/\(clientID)/rotate-secret", json: #"{"grace_seconds":60}"#)
                try check(rotated, "POST", "/admin/clients/{client}/rotate-secret")
                let newSecret = try #require(rotated.object["client_secret"] as? String)
                try check(try await api.admin(.get, "/admin/agents/\(agent)/clients"), "GET", "/admin/agents/{agent}/clients")

                let token = try await api.token(form: "grant_type=client_credentials", basic: (clientID, newSecret))
                try check(token, "POST", "/oauth/token")
                try check(try await api.token(form: "grant_type=client_credentials", basic: (clientID, secret + "x")), "POST", "/oauth/token")
                try check(try await api.token(form: "grant_type=password"), "POST", "/oauth/token")
                let accessToken = try #require(token.object["access_token"] as? String)
                let verifier = try await api.createKey(agent: env.adminAgentID, scopes: ["introspect"]).key
                try check(try await api.introspect(accessToken, as: verifier), "POST", "/oauth/introspect")
                try check(try await api.introspect(plaintext, as: verifier), "POST", "/oauth/introspect")
                try check(try await api.introspect(accessToken, as: env.adminKey), "POST", "/oauth/introspect")
                try check(try await api.request(.get, "/oauth/revocations?wait=0", key: verifier), "GET", "/oauth/revocations")
                try check(try await api.request(.get, "/oauth/revocations?wait=99", key: verifier), "GET", "/oauth/revocations")
                try check(try await api.request(.get, "/oauth/limits", key: verifier), "GET", "/oauth/limits")
                try check(try await api.request(.get, "/oauth/limits"), "GET", "/oauth/limits")
                try check(
                    try await api.request(
                        .post,
                        "/oauth/usage",
                        key: verifier,
                        json: #"{"batch_id":"b-1","counts":[{"agent_id":"\#(agent)","credential_id":"\#(keyID)","requests":7,"rate_limited":1}]}"#
                    ),
                    "POST",
                    "/oauth/usage"
                )

                try check(
                    try await api.admin(.patch, "/admin/clients/\(clientID)", json: #"{"client_name":null}"#),
                    "PATCH",
                    "/admin/clients/{client}"
                )
                try check(try await api.admin(.post, "/admin/clients/\(clientID)/disable"), "POST", "/admin/clients/{client}/disable")
                try check(try await api.admin(.get, "/admin/clients/\(clientID)"), "GET", "/admin/clients/{client}")
                try check(
                    try await api.admin(.put, "/admin/agents/\(agent)/delegation", json: #"{"may_act":null}"#),
                    "PUT",
                    "/admin/agents/{agent}/delegation"
                )
                try check(try await api.admin(.get, "/admin/agents/\(agent)/delegation"), "GET", "/admin/agents/{agent}/delegation")
                try check(
                    try await api.admin(.put, "/admin/rate-limits/gold", json: #"{"requests":10,"window_seconds":60}"#),
                    "PUT",
                    "/admin/rate-limits/{name}"
                )
                try check(try await api.admin(.get, "/admin/rate-limits"), "GET", "/admin/rate-limits")
                try check(try await api.admin(.delete, "/admin/rate-limits/standard"), "DELETE", "/admin/rate-limits/{name}")
                try check(
                    try await api.admin(.post, "/admin/signing-keys/rotate", json: #"{"algorithm":"ES256"}"#),
                    "POST",
                    "/admin/signing-keys/rotate"
                )
                try check(try await api.admin(.get, "/admin/signing-keys"), "GET", "/admin/signing-keys")
                try check(try await api.admin(.get, "/admin/audit?limit=1000"), "GET", "/admin/audit")
                try check(try await api.admin(.get, "/admin/audit?since=yesterday"), "GET", "/admin/audit")
                try check(try await api.request(.get, "/admin/audit"), "GET", "/admin/audit")
                try check(try await api.request(.get, "/admin/audit", key: verifier), "GET", "/admin/audit")
            }
        }
    }

    @Test("the conformance check finds each way an answer can differ from its schema")
    func conformanceCheckRefuses() throws {
        let schemas = try SchemaConformance(json: OpenAPIDocument.json)
        let agent = try #require(schemas.responseSchema("GET", "/admin/agents/{agent}", status: 200))
        let wrong: [String: Any] = ["id": "agt_1", "name": 7, "status": "paused", "created_at": "yesterday", "rate_limit": NSNull(), "extra": "x"]
        let problems = schemas.problems(wrong, agent)
        #expect(problems.count == 5, "\(problems)")
        for fragment in ["$.name", "$.status", "$.created_at", "quota is missing", "extra is not described"] {
            #expect(problems.contains { $0.contains(fragment) }, "\(fragment) not reported in \(problems)")
        }
        #expect(schemas.problems(["error": "not_found"], schemas.resolve("#/components/schemas/Error")).isEmpty)
        #expect(schemas.problems(["error": "nope"], schemas.resolve("#/components/schemas/Error")).count == 1)
    }

    /// `METHOD /path/{parameter}` of each operation in the served document.
    static func documentedRoutes() throws -> Set<String> {
        let object = try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any]
        let paths = try #require(object?["paths"] as? [String: [String: Any]])
        let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        return Set(paths.flatMap { path, item in item.keys.filter(methods.contains).map { "\($0.uppercased()) \(path)" } })
    }
}
