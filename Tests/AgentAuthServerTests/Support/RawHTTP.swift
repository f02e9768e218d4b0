import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Sends bytes exactly as given over a fresh TCP connection and returns the status line, for
/// requests that HTTP client libraries refuse to send or would normalise (padded headers, NULs).
enum RawHTTP {
    static func statusLine(port: Int, request: [UInt8]) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket failed") }
        defer { close(fd) }
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
        while !response.contains(UInt8(ascii: "\n")) {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            response.append(contentsOf: buffer[..<count])
        }
        return String(decoding: response.prefix { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
    }

    static func get(port: Int, path: String, headerLines: [String]) throws -> String {
        let head = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headerLines.map { $0 + "\r\n" }.joined() + "Connection: close\r\n\r\n"
        return try statusLine(port: port, request: Array(head.utf8))
    }
}
