import AgentAuthTesting

/// Sends bytes exactly as given over a fresh TCP connection and returns the answer, for
/// requests that HTTP client libraries refuse to send or would normalise (padded headers, NULs).
///
/// The socket calls block, so they run on a Dispatch thread: blocking the (two-thread)
/// cooperative pool would starve the in-process server that has to answer them.
enum RawHTTP {
    static func statusLine(port: Int, request: [UInt8]) async throws -> String {
        let response = try await exchange(port: port, request: request, from: nil)
        return String(decoding: response.prefix { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
    }

    /// A form POST from a chosen loopback source address (any 127.x.y.z is local on Linux).
    static func post(port: Int, path: String, headerLines: [String], form: String, from source: String) async throws -> RawResponse {
        let head =
            "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\n"
            + headerLines.map { $0 + "\r\n" }.joined() + "Connection: close\r\n\r\n" + form
        return RawResponse(try await exchange(port: port, request: Array(head.utf8), from: source))
    }

    static func exchange(port: Int, request: [UInt8], from source: String?) async throws -> [UInt8] {
        try await RawConnection.offPool {
            let connection = try RawConnection(port: port, from: source)
            connection.send(request)
            return connection.read(timeout: .seconds(30), untilResponseEnd: true).bytes
        }
    }

    static func get(port: Int, path: String, headerLines: [String]) async throws -> String {
        let head = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headerLines.map { $0 + "\r\n" }.joined() + "Connection: close\r\n\r\n"
        return try await statusLine(port: port, request: Array(head.utf8))
    }
}
