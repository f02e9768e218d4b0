import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL server of one test's own, which the test may stop and start again (same data,
/// same port): for outage and recovery tests. Removed by `destroy()`.
public final class PostgresInstance: @unchecked Sendable {
    public let port: Int
    let directory: String
    let bin: String
    let root: Bool
    /// `name=value` server settings given as `-c` options at every start (e.g. `ssl=on`).
    let settings: [String]

    public var url: String { "postgres://agentauth@127.0.0.1:\(port)" }

    public init(settings: [String] = []) async throws {
        self.settings = settings
        guard let bin = ThrowawayPostgres.binDirectory() else { throw ThrowawayPostgres.Failure("PostgreSQL is not installed") }
        self.bin = bin
        root = getuid() == 0
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("agentauth-pg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if root { try await ThrowawayPostgres.run("/bin/chown", ["postgres:postgres", directory]) }
        try await ThrowawayPostgres.run(
            bin + "/initdb",
            ["-D", directory + "/data", "-U", "agentauth", "--auth=trust", "-E", "UTF8", "--no-instructions"],
            asPostgres: root
        )
        port = try LoopbackPort.free()
        try await start()
    }

    /// Starts the server and waits until it accepts connections.
    public func start() async throws {
        let arguments =
            ["-D", directory + "/data", "-p", String(port), "-k", directory, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]
            + settings.flatMap { ["-c", $0] }
        _ = try await ChildProcess(
            root ? "/usr/sbin/runuser" : bin + "/postgres",
            root ? ["-u", "postgres", "--", bin + "/postgres"] + arguments : arguments
        )
        for _ in 0..<200 {
            if ThrowawayPostgres.canConnect(port: port) {
                try await Task.sleep(for: .milliseconds(200))
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ThrowawayPostgres.Failure("PostgreSQL did not start")
    }

    /// Stops the server at once (what a crash or a restart looks like to clients).
    public func stop() {
        let pidFile = directory + "/data/postmaster.pid"
        if let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let line = text.split(separator: "\n").first, let pid = pid_t(line) {
            kill(pid, SIGQUIT)
        }
        for _ in 0..<100 where FileManager.default.fileExists(atPath: pidFile) { usleep(50_000) }
    }

    public func destroy() {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
