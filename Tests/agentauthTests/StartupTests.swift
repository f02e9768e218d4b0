import AgentAuthTesting
import Foundation
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension OperationsProcessTests {
    /// docs/deployment.md "Start-up": `serve` says it is listening only once it is, and each
    /// mistake at start is one line on stderr and a non-zero exit.
    @Suite("serve start-up")
    struct StartupTests {
        @Test("'AgentAuth listening' is printed only once the port accepts connections")
        func listeningAfterBind() async throws {
            try await withTemporaryDirectory { directory in
                let port = try LoopbackPort.free()
                let server = try await RunningProcess("agentauth", ["serve", "--port", "\(port)"], in: directory)
                defer { server.stop() }
                try await server.waitForOutput("AgentAuth listening")
                #expect(Self.accepts(port: port), "the port accepts connections as soon as the line is printed")
            }
        }

        @Test("a busy port: one line naming it, a non-zero exit, no database created")
        func busyPort() async throws {
            try await withTemporaryDirectory { directory in
                let listener = try Self.listen()
                defer { close(listener.descriptor) }
                let refused = try await Binaries.agentauth(["serve", "--port", "\(listener.port)"], in: directory)
                #expect(refused.status != 0)
                #expect(refused.stderr.contains("port \(listener.port) is already in use"), "\(refused.stderr)")
                #expect(refused.stderr.split(separator: "\n").count == 1, "one line:\n\(refused.stderr)")
                #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("agentauth.sqlite").path))
            }
        }

        @Test("a public --host without --issuer is refused with the fix", arguments: ["0.0.0.0", "::"])
        func publicHostNeedsIssuer(_ host: String) async throws {
            try await withTemporaryDirectory { directory in
                let refused = try await Binaries.agentauth(["serve", "--host", host, "--port", "\(try LoopbackPort.free())"], in: directory)
                #expect(refused.status != 0)
                #expect(refused.stderr.contains("--issuer https://your.public.name"), "\(refused.stderr)")
                #expect(refused.stderr.split(separator: "\n").count == 1, "one line:\n\(refused.stderr)")
                let fromEnvironment = try await Binaries.agentauth(["serve"], in: directory, environment: ["AGENTAUTH_HOST": host])
                #expect(fromEnvironment.stderr.contains("AGENTAUTH_HOST"), "\(fromEnvironment.stderr)")
            }
        }

        @Test("a second serve on the same SQLite file is refused in one line; the admin commands still work beside the first")
        func secondServer() async throws {
            try await withTemporaryDirectory { directory in
                let first = try await AuthServerProcess.start(in: directory)
                defer { first.process.stop() }
                let second = try await Binaries.agentauth(["serve", "--port", "\(try LoopbackPort.free())"], in: directory)
                #expect(second.status != 0)
                #expect(second.stderr.contains("another agentauth serve is already running on ./agentauth.sqlite"), "\(second.stderr)")
                #expect(second.stderr.split(separator: "\n").count == 1, "one line:\n\(second.stderr)")
                let list = try await Binaries.agentauth(["agents", "list", "--json"], in: directory)
                #expect(list.status == 0, "\(list.stderr)")
                #expect(try await HTTP.send(.GET, "\(first.base)/healthz").status == 200, "the first server is untouched")
            }
        }

        static func accepts(port: Int) -> Bool {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(descriptor) }
            var address = Self.loopback(port)
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } == 0
        }

        static func loopback(_ port: Int) -> sockaddr_in {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            return address
        }

        /// A socket listening on a free loopback port, as another program would hold it.
        static func listen() throws -> (descriptor: Int32, port: Int) {
            let port = try LoopbackPort.free()
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0, Glibc.listen(descriptor, 8) == 0 else {
                close(descriptor)
                throw CLIFailure("cannot hold port \(port)")
            }
            return (descriptor, port)
        }
    }
}
