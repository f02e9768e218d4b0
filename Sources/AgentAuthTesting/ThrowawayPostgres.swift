import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL server for the tests: `AGENTAUTH_TEST_POSTGRES_URL` when set, else a throwaway
/// one (`initdb` + `postgres` on a free loopback port in a temp dir, as the `postgres` user when
/// running as root), started once per test process and stopped and removed when it exits.
/// No PostgreSQL and `CI=true` (or anywhere): the tests fail, never skip.
public enum ThrowawayPostgres {
    nonisolated(unsafe) static var pid: pid_t = 0
    nonisolated(unsafe) static var directory: String = ""
    /// Started once, by whichever test asks first; later ones wait for the same start.
    static let server = Task<String, any Error> { try await start() }

    /// The base URL (without database) of a running server.
    public static func baseURL() async throws -> String {
        try await server.value
    }

    static func start() async throws -> String {
        if let url = ProcessInfo.processInfo.environment["AGENTAUTH_TEST_POSTGRES_URL"], !url.isEmpty {
            return url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        // On a fresh Debian machine where the tests run as root (as here and in CI), install
        // PostgreSQL rather than fail: `swift test` must work as the README says.
        if binDirectory() == nil, getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/apt-get") {
            try? await run(
                "/bin/sh",
                ["-c", "DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql"]
            )
        }
        guard let bin = binDirectory() else {
            throw Failure(
                "PostgreSQL is not installed: the PostgreSQL store tests need initdb and postgres (Debian: apt-get install -y postgresql), or AGENTAUTH_TEST_POSTGRES_URL"
            )
        }
        let root = getuid() == 0
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("agentauth-pg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        directory = dir
        if root { try await run("/bin/chown", ["postgres:postgres", dir]) }
        let data = dir + "/data"
        try await run(bin + "/initdb", ["-D", data, "-U", "agentauth", "--auth=trust", "-E", "UTF8", "--no-instructions"], asPostgres: root)
        let port = try LoopbackPort.free()
        let arguments = [
            "-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200",
        ]
        let server = try await ChildProcess(
            root ? "/usr/sbin/runuser" : bin + "/postgres",
            root ? ["-u", "postgres", "--", bin + "/postgres"] + arguments : arguments
        )
        pid = server.processIdentifier
        atexit {
            // The server's own pid (runuser does not pass signals on): immediate shutdown.
            let pidFile = ThrowawayPostgres.directory + "/data/postmaster.pid"
            if let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let line = text.split(separator: "\n").first,
                let serverPID = pid_t(line)
            {
                kill(serverPID, SIGQUIT)
            }
            if ThrowawayPostgres.pid > 0 { kill(ThrowawayPostgres.pid, SIGTERM) }
            for _ in 0..<50 where FileManager.default.fileExists(atPath: pidFile) { usleep(100_000) }
            if !ThrowawayPostgres.directory.isEmpty { try? FileManager.default.removeItem(atPath: ThrowawayPostgres.directory) }
        }
        // Ready when it accepts connections.
        for _ in 0..<200 {
            if canConnect(port: port) {
                try await Task.sleep(for: .milliseconds(200))
                return "postgres://agentauth@127.0.0.1:\(port)"
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Failure("the throwaway PostgreSQL did not start")
    }

    static func binDirectory() -> String? {
        var candidates: [String] = []
        if let versions = try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql") {
            candidates += versions.sorted(by: >).map { "/usr/lib/postgresql/\($0)/bin" }
        }
        candidates += ["/usr/local/bin", "/usr/bin", "/usr/local/pgsql/bin"]
        return candidates.first {
            FileManager.default.isExecutableFile(atPath: $0 + "/initdb") && FileManager.default.isExecutableFile(atPath: $0 + "/postgres")
        }
    }

    static func run(_ executable: String, _ arguments: [String], asPostgres: Bool = false) async throws {
        let result = try await ChildProcess.run(
            asPostgres ? "/usr/sbin/runuser" : executable,
            asPostgres ? ["-u", "postgres", "--", executable] + arguments : arguments
        )
        guard result.status == 0 else { throw Failure("\(executable) failed with status \(result.status): \(result.stderr)") }
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }
}
