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
            let unrouted = documented.subtracting(routed)
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
                /// Checks `response` against the document's schema for its status at `method template`.
                func check(_ response: TestResponse, _ method: HTTPRequest.Method, _ template: String, line: Int = #line) throws {
                    let location = SourceLocation(fileID: #fileID, filePath: #filePath, line: line, column: 1)
                    let status = Int(response.status.code)
                    let schema = try #require(
                        schemas.responseSchema(method.rawValue, template, status: status),
                        "\(method) \(template) does not document \(status)",
                        sourceLocation: location
                    )
                    let problems = schemas.problems(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)), schema)
                    #expect(problems.isEmpty, "\(method) \(template) \(status): \(problems)", sourceLocation: location)
                }
                /// Sends `method uri` (the template itself when `uri` is nil), with the admin key unless another
                /// key is given or `anonymous`, and checks the answer.
                @discardableResult
                func call(
                    _ method: HTTPRequest.Method,
                    _ template: String,
                    _ uri: String? = nil,
                    key: String? = nil,
                    anonymous: Bool = false,
                    json: String? = nil,
                    line: Int = #line
                ) async throws -> TestResponse {
                    let response = try await api.request(method, uri ?? template, key: anonymous ? nil : key ?? env.adminKey, json: json)
                    try check(response, method, template, line: line)
                    // A body the server accepted fits the document's request schema (not too strict).
                    if let json, (200..<300).contains(response.status.code) {
                        let location = SourceLocation(fileID: #fileID, filePath: #filePath, line: line, column: 1)
                        let schema = try #require(schemas.requestSchema(method.rawValue, template), sourceLocation: location)
                        let problems = schemas.problems(try JSONSerialization.jsonObject(with: Data(json.utf8)), schema)
                        #expect(problems.isEmpty, "request to \(method) \(template): \(problems)", sourceLocation: location)
                    }
                    return response
                }
                for path in ["/healthz", "/readyz", "/.well-known/oauth-authorization-server", "/.well-known/jwks.json"] {
                    try await call(.get, path, anonymous: true)
                }

                let quota = #"{"name":"billing","rate_limit":"standard","quota":{"requests":5,"period":"day"}}"#
                let agent = try #require(try await call(.post, "/admin/agents", json: quota).object["id"] as? String)
                try await call(.post, "/admin/agents/{agent}/disable", "/admin/agents/\(agent)/disable")
                try await call(.post, "/admin/agents/{agent}/enable", "/admin/agents/\(agent)/enable")
                try await call(.patch, "/admin/agents/{agent}", "/admin/agents/\(agent)", json: #"{"quota":null}"#)
                try await call(.get, "/admin/agents", "/admin/agents?limit=5")
                try await call(.get, "/admin/agents/{agent}", "/admin/agents/agt_none")
                try await call(.get, "/admin/agents/{agent}/usage", "/admin/agents/\(agent)/usage?period=month")

                let keyJSON = #"{"scopes":["introspect"],"name":"verifier","expires_in":3600}"#
                let key = try await call(.post, "/admin/agents/{agent}/keys", "/admin/agents/\(agent)/keys", json: keyJSON)
                let keyID = try #require(key.object["id"] as? String)
                let plaintext = try #require(key.object["key"] as? String)
                try await call(.post, "/admin/keys/{key}/roll", "/admin/keys/\(keyID)/roll", json: #"{"grace_seconds":60}"#)
                try await call(.get, "/admin/agents/{agent}/keys", "/admin/agents/\(agent)/keys")
                try await call(.post, "/admin/keys/{key}/revoke", "/admin/keys/\(keyID)/revoke")
                try await call(.patch, "/admin/keys/{key}", "/admin/keys/\(keyID)", json: #"{"name":"x"}"#)

                let clientJSON = #"{"scope":"orders:read","client_name":"billing"}"#
                let client = try await call(.post, "/admin/agents/{agent}/clients", "/admin/agents/\(agent)/clients", json: clientJSON)
                let clientID = try #require(client.object["client_id"] as? String)
                let secret = try #require(client.object["client_secret"] as? String)
                let rotated = try await call(
                    .post,
                    "/admin/clients/{client}/rotate-secret",
                    "/admin/clients/\(clientID)/rotate-secret",
                    json: #"{"grace_seconds":60}"#
                )
                let newSecret = try #require(rotated.object["client_secret"] as? String)
                try await call(.get, "/admin/agents/{agent}/clients", "/admin/agents/\(agent)/clients")

                let token = try await api.token(form: "grant_type=client_credentials", basic: (clientID, newSecret))
                try check(token, .post, "/oauth/token")
                try check(try await api.token(form: "grant_type=client_credentials", basic: (clientID, secret + "x")), .post, "/oauth/token")
                try check(try await api.token(form: "grant_type=password"), .post, "/oauth/token")
                let accessToken = try #require(token.object["access_token"] as? String)
                let verifier = try await api.createKey(agent: env.adminAgentID, scopes: ["introspect"]).key
                for (credential, caller) in [(accessToken, verifier), (plaintext, verifier), (accessToken, env.adminKey)] {
                    try check(try await api.introspect(credential, as: caller), .post, "/oauth/introspect")
                }
                try await call(.get, "/oauth/revocations", "/oauth/revocations?wait=0", key: verifier)
                try await call(.get, "/oauth/revocations", "/oauth/revocations?wait=99", key: verifier)
                try await call(.get, "/oauth/limits", key: verifier)
                try await call(.get, "/oauth/limits", anonymous: true)
                let counts = #"[{"agent_id":"\#(agent)","credential_id":"\#(keyID)","requests":7,"rate_limited":1}]"#
                try await call(.post, "/oauth/usage", key: verifier, json: #"{"batch_id":"b-1","counts":\#(counts)}"#)

                try await call(.patch, "/admin/clients/{client}", "/admin/clients/\(clientID)", json: #"{"client_name":null}"#)
                try await call(.post, "/admin/clients/{client}/disable", "/admin/clients/\(clientID)/disable")
                try await call(.get, "/admin/clients/{client}", "/admin/clients/\(clientID)")
                try await call(.put, "/admin/agents/{agent}/delegation", "/admin/agents/\(agent)/delegation", json: #"{"may_act":null}"#)
                try await call(.get, "/admin/agents/{agent}/delegation", "/admin/agents/\(agent)/delegation")
                try await call(.put, "/admin/rate-limits/{name}", "/admin/rate-limits/gold", json: #"{"requests":10,"window_seconds":60}"#)
                try await call(.get, "/admin/rate-limits")
                // Assigned to the agent above: 409.
                try await call(.delete, "/admin/rate-limits/{name}", "/admin/rate-limits/standard")
                try await call(.post, "/admin/signing-keys/rotate", json: #"{"algorithm":"ES256"}"#)
                try await call(.get, "/admin/signing-keys")
                try await call(.get, "/admin/audit", "/admin/audit?limit=1000")
                try await call(.get, "/admin/audit", "/admin/audit?since=yesterday")
                try await call(.get, "/admin/audit", anonymous: true)
                try await call(.get, "/admin/audit", key: verifier)
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
        let tier = schemas.resolve("#/components/schemas/RateLimitTier")
        #expect(schemas.problems(["name": "9lives", "requests": 1, "window_seconds": 1, "burst": 1], tier).count == 1)
    }

    /// `METHOD /path/{parameter}` of each operation in the served document.
    static func documentedRoutes() throws -> Set<String> {
        let object = try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any]
        let paths = try #require(object?["paths"] as? [String: [String: Any]])
        let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        return Set(paths.flatMap { path, item in item.keys.filter(methods.contains).map { "\($0.uppercased()) \(path)" } })
    }
}
