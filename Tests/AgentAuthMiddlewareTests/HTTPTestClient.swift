import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Minimal real-HTTP calls for tests (a client outside the app under test). The deadlines only
/// stop a hung test: they are long, since at the start of a full run every suite shares two cores.
enum HTTPTestClient {
    struct Response {
        let status: Int
        let body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    }

    static func get(_ url: String, bearer token: String? = nil) async throws -> Response {
        var request = HTTPClientRequest(url: url)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
        let body = try await response.body.collect(upTo: 1 << 20)
        return Response(status: Int(response.status.code), body: String(buffer: body))
    }

    static func post(_ url: String, form: String, basic: (String, String)? = nil, apiKey: String? = nil) async throws -> Response {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        if !form.isEmpty { request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded") }
        let encode = { (value: String) in value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value }
        if let basic {
            request.headers.add(name: "Authorization", value: "Basic " + Data("\(encode(basic.0)):\(encode(basic.1))".utf8).base64EncodedString())
        }
        if let apiKey { request.headers.add(name: "X-API-Key", value: apiKey) }
        request.body = .bytes(ByteBuffer(string: form))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
        let body = try await response.body.collect(upTo: 1 << 20)
        return Response(status: Int(response.status.code), body: String(buffer: body))
    }
}
