import AgentAuthCore
import AgentAuthHTTP
import AgentAuthServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// SECURITY-CASES 29–35, each as the real request against the running app.
@Suite("API key attacks (SECURITY-CASES 29–35)")
struct APIKeySecurityTests {
    /// Asserts the one answer every refused key gets: 401 `invalid_token`.
    static func expectRefused(_ response: TestResponse, _ comment: Comment? = nil) {
        #expect(response.status == .unauthorized, comment)
        #expect(response.errorCode == "invalid_token", comment)
        #expect(response.headers[.wwwAuthenticate]?.hasPrefix(#"Bearer error="invalid_token""#) == true, comment)
    }

    @Test("29: wrong prefix, bad checksum, wrong length → 401")
    func malformedKeys() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let valid = env.adminKey
                let body = valid.dropFirst("sk-agent-".count)
                var badChecksum = Array(valid)
                badChecksum[badChecksum.count - 1] = badChecksum.last == "A" ? "B" : "A"
                let candidates = [
                    "sk-live-" + body,
                    "SK-AGENT-" + body,
                    String(badChecksum),
                    String(valid.dropLast()),
                    valid + "A",
                    "sk-agent-",
                    "x",
                ]
                for candidate in candidates {
                    Self.expectRefused(try await api.request(.get, "/admin/agents", key: candidate), "\(candidate)")
                }
                #expect(try await api.request(.get, "/admin/agents", key: valid).status == .ok, "the real key still works")
            }
        }
    }

    @Test("30: trailing space, changed case, NUL, homoglyph, key in the query string → 401")
    func alteredKeys() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let valid = env.adminKey
                var changedCase = Array(valid)
                let index = try #require(changedCase.indices.dropFirst(9).first { changedCase[$0].isLetter })
                changedCase[index] = Character(changedCase[index].isUppercase ? changedCase[index].lowercased() : changedCase[index].uppercased())
                let homoglyph = valid.replacingOccurrences(of: "a", with: "а").replacingOccurrences(of: "o", with: "о")  // Cyrillic
                for candidate in [String(changedCase), homoglyph == valid ? valid + "а" : homoglyph, valid + "\u{0}x"] {
                    Self.expectRefused(try await api.request(.get, "/admin/agents", key: candidate))
                }
                let query = try await api.request(.get, "/admin/agents?api_key=\(valid)&X-API-Key=\(valid)")
                #expect(query.status == .unauthorized)
                #expect(query.headers[.wwwAuthenticate] == "Bearer")
            }
        }
    }

    @Test("30: padded keys and NUL bytes on the wire → refused; the exact key works")
    func paddedKeysOnTheWire() async throws {
        try await TestEnvironment.with { env in
            try await env.test(.live) { api in
                let port = try #require(api.client.port)
                let key = env.adminKey
                for line in ["X-API-Key: \(key) ", "X-API-Key: \(key)\t", "X-API-Key: \(key)  ", "X-API-Key: \(key)\u{0}"] {
                    let status = try await RawHTTP.get(port: port, path: "/admin/agents", headerLines: [line])
                    #expect(status.hasPrefix("HTTP/1.1 401") || status.hasPrefix("HTTP/1.1 400"), "\(line.debugDescription) → \(status)")
                }
                #expect(try await RawHTTP.get(port: port, path: "/admin/agents", headerLines: ["X-API-Key: \(key) x"]).hasPrefix("HTTP/1.1 401"))
                #expect(try await RawHTTP.get(port: port, path: "/admin/agents", headerLines: ["X-API-Key: \(key)"]).hasPrefix("HTTP/1.1 200"))
                #expect(try await RawHTTP.get(port: port, path: "/admin/agents", headerLines: ["X-API-Key:\(key)"]).hasPrefix("HTTP/1.1 200"))
            }
        }
    }

    @Test("31: revoked, expired, rolled-past-grace and disabled-agent keys → 401 on the very next request")
    func deadKeys() async throws {
        try await TestEnvironment.with { env in
            let clock = TestClock()
            try await env.test(clock: clock) { api, _ in
                let agent = try await api.createAgent()
                let (revokedID, revoked) = try await api.createKey(agent: agent, scopes: ["admin"])
                #expect(try await api.request(.get, "/admin/agents", key: revoked).status == .ok)
                _ = try await api.admin(.post, "/admin/keys/\(revokedID)/revoke")
                Self.expectRefused(try await api.request(.get, "/admin/agents", key: revoked))

                let (_, expiring) = try await api.createKey(agent: agent, scopes: ["admin"], extra: #","expires_in":1"#)
                #expect(try await api.request(.get, "/admin/agents", key: expiring).status == .ok)
                clock.advance(2)
                Self.expectRefused(try await api.request(.get, "/admin/agents", key: expiring))

                let (rolledID, rolled) = try await api.createKey(agent: agent, scopes: ["admin"])
                _ = try await api.admin(.post, "/admin/keys/\(rolledID)/roll", json: #"{"grace_seconds":0}"#)
                Self.expectRefused(try await api.request(.get, "/admin/agents", key: rolled))

                let (_, live) = try await api.createKey(agent: agent, scopes: ["admin"])
                #expect(try await api.request(.get, "/admin/agents", key: live).status == .ok)
                _ = try await api.admin(.post, "/admin/agents/\(agent)/disable")
                Self.expectRefused(try await api.request(.get, "/admin/agents", key: live))
            }
        }
    }

    @Test("32: a key without the scope → 403")
    func missingScope() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (_, key) = try await api.createKey(agent: agent, scopes: ["conversations:read"])
                let response = try await api.introspect(env.adminKey, as: key)
                #expect(response.status == .forbidden)
                #expect(response.errorCode == "insufficient_scope")
                #expect(response.headers[.wwwAuthenticate] == #"Bearer error="insufficient_scope", scope="introspect""#)
                let caseChanged = try await api.createKey(agent: agent, scopes: ["Admin", "ADMIN"])
                #expect(try await api.request(.get, "/admin/agents", key: caseChanged.key).status == .forbidden, "scopes are case-sensitive")
            }
        }
    }

    @Test("33: unknown key and known-prefix wrong key get identical answers")
    func indistinguishableFailures() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let unknown = SecretFormat.apiKey.generate()
                // Same first 13 characters as the admin key, well-formed, but not stored.
                let prefix = String(env.adminKey.prefix(13))
                let lookalike = SecretFormat.apiKey.make(checksummedHead: prefix + SecretFormat.apiKey.generate().dropFirst(13).dropLast(6))
                #expect(lookalike.hasPrefix(prefix) && lookalike != env.adminKey && SecretFormat.apiKey.isWellFormed(lookalike))
                let first = try await api.request(.get, "/admin/agents", key: unknown)
                let second = try await api.request(.get, "/admin/agents", key: lookalike)
                #expect(first.status == second.status)
                #expect(first.text == second.text)
                var firstHeaders = first.headers
                var secondHeaders = second.headers
                firstHeaders[.date] = nil
                secondHeaders[.date] = nil
                #expect(firstHeaders == secondHeaders)
            }
        }
    }

    @Test("34: the plaintext key is never in listings, errors or logs")
    func plaintextNeverLeaks() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let agent = try await api.createAgent()
                let (id, key) = try await api.createKey(agent: agent, scopes: ["introspect"])
                var seen: [String] = []
                seen.append(try await api.admin(.get, "/admin/agents/\(agent)/keys").text)
                seen.append(try await api.admin(.get, "/admin/keys/\(id)").text)
                seen.append(try await api.request(.get, "/admin/agents", key: key).text)
                seen.append(try await api.introspect(key, as: key).text)
                _ = try await api.admin(.post, "/admin/keys/\(id)/revoke")
                seen.append(try await api.request(.get, "/admin/agents", key: key).text)
                seen.append(try await api.introspect(key, as: env.adminKey).text)
                for text in seen { #expect(!text.contains(key)) }
                #expect(!env.logs.all.isEmpty, "the test must actually capture logs")
                for line in env.logs.all {
                    #expect(!line.contains(key))
                    #expect(!line.contains(env.adminKey))
                }
            }
        }
    }

    @Test("35: a JWT in X-API-Key, or an API key as a Bearer token → 401")
    func wrongHeaders() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                let jwt = "eyJhbGciOiJFZERTQSIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJhZ3RfMTIzIn0.c2lnbmF0dXJl"
                Self.expectRefused(try await api.request(.get, "/admin/agents", key: jwt))
                let bearer = try await api.request(.get, "/admin/agents", headers: [.authorization: "Bearer \(env.adminKey)"])
                Self.expectRefused(bearer)
                let both = try await api.request(.get, "/admin/agents", key: env.adminKey, headers: [.authorization: "Bearer \(env.adminKey)"])
                #expect(both.status == .badRequest, "two credentials in one request are refused (RFC 6750 §2)")
                #expect(both.errorCode == "invalid_request")
            }
        }
    }

    @Test("a repeated X-API-Key header is refused")
    func repeatedHeader() async throws {
        try await TestEnvironment.with { env in
            try await env.test { api in
                var headers = HTTPFields()
                headers.append(HTTPField(name: .apiKey, value: env.adminKey))
                headers.append(HTTPField(name: .apiKey, value: SecretFormat.apiKey.generate()))
                Self.expectRefused(try await api.request(.get, "/admin/agents", headers: headers))
            }
        }
    }
}
