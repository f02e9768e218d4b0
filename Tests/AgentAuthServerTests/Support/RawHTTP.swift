import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Sends bytes exactly as given over a fresh TCP connection and returns the status line, for
/// requests that HTTP client libraries refuse to send or would normalise (padded headers, NULs).
///
/// The socket calls block, so they run on a Dispatch thread: blocking the (two-thread)
/// cooperative pool would starve the in-process server that has to answer them.
enum RawHTTP {
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }

    struct Response {
        let status: Int
        /// Header names lowercased.
        let headers: [String: String]
        let body: String
    }

    static func statusLine(port: Int, request: [UInt8]) async throws -> String {
        let response = try await offPool { try exchange(port: port, request: request, from: nil, readAll: false) }
        return String(decoding: response.prefix { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
    }

    /// A form POST from a chosen loopback source address (any 127.x.y.z is local on Linux).
    static func post(port: Int, path: String, headerLines: [String], form: String, from source: String) async throws -> Response {
        let head =
            "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\n"
            + headerLines.map { $0 + "\r\n" }.joined() + "Connection: close\r\n\r\n" + form
        let bytes = Array(head.utf8)
        let raw = String(decoding: try await offPool { try exchange(port: port, request: bytes, from: source, readAll: true) }, as: UTF8.self)
        let parts = raw.components(separatedBy: "\r\n\r\n")
        let lines = parts[0].components(separatedBy: "\r\n")
        let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Response(status: status, headers: headers, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    static func exchange(port: Int, request: [UInt8], from source: String?, readAll: Bool) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket failed") }
        defer { close(fd) }
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { throw TestFailure("bind to \(source) failed") }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestFailure("connect failed") }
        var sent = 0
        while sent < request.count {
            let result = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            guard result > 0 else { break }
            sent += result
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while readAll || !response.contains(UInt8(ascii: "\n")) {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            response.append(contentsOf: buffer[..<count])
        }
        return response
    }

    static func get(port: Int, path: String, headerLines: [String]) async throws -> String {
        let head = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headerLines.map { $0 + "\r\n" }.joined() + "Connection: close\r\n\r\n"
        return try await statusLine(port: port, request: Array(head.utf8))
    }
}
