import AgentAuthCore
import AgentAuthHTTP
import AgentAuthServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Malformed and oversized requests (SECURITY-CASES 48): a 4xx JSON error, and the server keeps serving.
@Suite("Bad input")
struct BadInputTests {
    @Test("malformed JSON bodies → 400", arguments: ["{", "not json", #"{"name":"a"#, "\u{FEFF}{}", String(repeating: "[", count: 5000)])
    func malformedJSON(_ body: String) async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let response = try await api.admin(.post, "/admin/agents", json: body)
                #expect(response.status == .badRequest)
                #expect(response.errorCode == "invalid_request")
                #expect(try await api.createAgent().hasPrefix("agt_"), "the server keeps serving")
            }
        }
    }

    @Test("a non-JSON content type on the admin API → 415")
    func wrongContentType() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let response = try await api.request(
                    .post,
                    "/admin/agents",
                    key: env.adminKey,
                    headers: [.contentType: "text/plain"],
                    body: #"{"name":"x"}"#
                )
                #expect(response.status == .unsupportedMediaType)
                #expect(response.errorCode == "invalid_request")
            }
        }
    }

    @Test("a 10 MB body → 413, and the server keeps serving")
    func oversizedBody() async throws {
        try await TestEnvironment.with { env in
            try await env.test(.live) { api in
                let huge = #"{"name":""# + String(repeating: "a", count: 10 * 1024 * 1024) + #""}"#
                let response = try await api.admin(.post, "/admin/agents", json: huge)
                #expect(response.status == .contentTooLarge)
                #expect(response.errorCode == "request_too_large")
                #expect(try await api.request(.get, "/healthz").status == .ok)
            }
        }
        try await TestEnvironment.with { env in
            try await env.test { api in
                let form = "token=" + String(repeating: "a", count: 100 * 1024)
                let response = try await api.request(.post, "/oauth/introspect", key: env.adminKey, form: form)
                #expect(response.status == .contentTooLarge)
            }
        }
    }

    @Test("large headers → 431; a 1 MB header is refused by the parser and the server survives")
    func oversizedHeaders() async throws {
        try await TestEnvironment.with { env in
            try await env.test(.live) { api in
                let big = try await api.request(
                    .get,
                    "/admin/agents",
                    key: env.adminKey,
                    headers: [HTTPField.Name("X-Padding")!: String(repeating: "a", count: 20 * 1024)]
                )
                #expect(big.status.code == 431)
                #expect(big.errorCode == "invalid_request")
                let bearer = try await api.request(
                    .get,
                    "/admin/agents",
                    headers: [.authorization: "Bearer " + String(repeating: "a", count: 12 * 1024)]
                )
                #expect(bearer.status.code == 431)
            }
            // A header past the HTTP parser's limit: a fresh connection gets 400 (or is closed) and others are unaffected.
            try await env.test(.live) { api in
                let response = try? await api.request(
                    .get,
                    "/healthz",
                    headers: [.authorization: "Bearer " + String(repeating: "a", count: 1024 * 1024)]
                )
                if let response { #expect(response.status == .badRequest || response.status.code == 431) }
            }
            try await env.test(.live) { api in
                let response = try await api.request(.get, "/healthz")
                #expect(response.status == .ok)
            }
        }
    }

    @Test("10,000 form parameters or 10,000 scopes → 400")
    func tooMany() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let form = (0..<10_000).map { "p\($0)=v" }.joined(separator: "&")
                let params = try await api.request(.post, "/oauth/introspect", key: env.adminKey, form: form)
                #expect(params.status == .badRequest || params.status == .contentTooLarge)
                let overLimit = (0...FormBody.maxParameters).map { "p\($0)=v" }.joined(separator: "&")
                let sixtyFive = try await api.request(.post, "/oauth/introspect", key: env.adminKey, form: "token=x&" + overLimit)
                #expect(sixtyFive.status == .badRequest)
                #expect(sixtyFive.errorCode == "invalid_request")
                let agent = try await api.createAgent()
                let scopes = (0..<10_000).map { "\"s\($0)\"" }.joined(separator: ",")
                let response = try await api.admin(.post, "/admin/agents/\(agent)/keys", json: #"{"scopes":[\#(scopes)]}"#)
                #expect(response.status == .badRequest || response.status == .contentTooLarge)
                let justOver = (0...ScopeSet.maxCount).map { "\"s\($0)\"" }.joined(separator: ",")
                let over = try await api.admin(.post, "/admin/agents/\(agent)/keys", json: #"{"scopes":[\#(justOver)]}"#)
                #expect(over.status == .badRequest)
                #expect(over.text.contains("100"))
            }
        }
    }

    @Test("bad query parameters on listings → 400")
    func badQuery() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                #expect(try await api.admin(.get, "/admin/agents?limit=abc").status == .badRequest)
                #expect(try await api.admin(.get, "/admin/agents?limit=0").status == .badRequest)
                #expect(try await api.admin(.get, "/admin/agents?limit=100000").status == .badRequest)
                #expect(try await api.admin(.get, "/admin/agents?offset=-1").status == .badRequest)
                let page = try await api.admin(.get, "/admin/agents?limit=1&offset=0")
                #expect((page.object["agents"] as? [Any])?.count == 1)
            }
        }
    }

    @Test("two Content-Type fields on a token request → 400, though the first names a form")
    func repeatedContentType() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (id, secret) = try await api.createClient(agent: agent, json: #"{"scope":"a"}"#)
                var headers = HTTPFields()
                headers.append(HTTPField(name: .contentType, value: "application/x-www-form-urlencoded;a=1"))
                headers.append(HTTPField(name: .contentType, value: "application/json"))
                let response = try await api.token(form: "grant_type=client_credentials", basic: (id, secret ?? ""), headers: headers)
                #expect(response.status == .badRequest)
                #expect(response.errorCode == "invalid_request")
                let single = try await api.token(form: "grant_type=client_credentials", basic: (id, secret ?? ""))
                #expect(single.status == .ok, "one Content-Type: the same request is served")
            }
        }
    }

    @Test("a form's media type: any ASCII case, parameters and surrounding spaces ignored; anything else is not a form")
    func formContentTypes() {
        for accepted in [
            "application/x-www-form-urlencoded", "Application/X-WWW-Form-URLEncoded", "application/x-www-form-urlencoded; charset=UTF-8",
            " \tapplication/x-www-form-urlencoded \t;charset=utf-8",
        ] {
            #expect(FormBody.isForm(contentType: accepted), "\(accepted)")
        }
        for refused in [
            nil, "", "application/json", "application/x-www-form-urlencodedx", "application/x-www-form", "multipart/form-data",
            "application/x-www-form-urlencoded,text/plain", "application / x-www-form-urlencoded",
            "application/x-www-form-urlencoded;a=1, application/json",
        ] as [String?] {
            #expect(!FormBody.isForm(contentType: refused), "\(refused ?? "nil")")
        }
    }
}
