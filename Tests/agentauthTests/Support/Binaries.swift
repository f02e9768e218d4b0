import AgentAuthStoreConformance
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs the package's built executables as a user would.
enum Binaries {
    /// The folder holding the built products: the test bundle sits beside the executables.
    static let productsDirectory: URL = {
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = runner.deletingLastPathComponent()
        // On some layouts the runner lives inside a bundle folder (….xctest/Contents/MacOS).
        while !FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("agentauth").path), directory.pathComponents.count > 1 {
            directory.deleteLastPathComponent()
        }
        return directory
    }()

    static func url(_ name: String) -> URL { productsDirectory.appendingPathComponent(name) }

    struct Result: Sendable {
        let status: Int32
        let stdout: String
        let stderr: String

        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any] ?? [:]
        }
    }

    /// Runs `agentauth` with `arguments` in `directory` and waits for it, on a Dispatch thread
    /// so that the wait does not hold one of the cooperative pool's few threads.
    static func agentauth(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) async throws -> Result {
        let result = try await ChildProcess.run(
            url("agentauth").path,
            arguments,
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
            directory: directory.path
        )
        return Result(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }

    /// A free loopback port (bound, read and released; the tiny race is acceptable in tests).
    static func freePort() throws -> Int {
        try LoopbackPort.free()
    }
}

/// A long-running child process (server) whose output is collected as it arrives.
final class RunningProcess: @unchecked Sendable {
    let process: ChildProcess
    let name: String
    /// Kept for the child's lifetime: a dropped `Pipe` closes its read end, and the child's next
    /// write would kill it with SIGPIPE.
    private let pipe = Pipe()
    private let lock = NSLock()
    private var collected = ""

    /// Starts the built `executable`; with a `launcher` (e.g. `["/usr/bin/prlimit", "--nofile=256", "--"]`),
    /// through it, which then execs the executable in the same process.
    init(_ executable: String, _ arguments: [String], in directory: URL, environment: [String: String] = [:], launcher: [String] = []) throws {
        name = executable
        let command = launcher + [Binaries.url(executable).path] + arguments
        process = try ChildProcess(
            command[0],
            Array(command.dropFirst()),
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
            directory: directory.path,
            stdout: pipe,
            stderr: pipe
        )
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.lock()
            self.collected += String(decoding: data, as: UTF8.self)
            self.lock.unlock()
        }
    }

    var output: String {
        lock.lock()
        defer { lock.unlock() }
        return collected
    }

    /// Waits until the output contains `text`, or fails after `timeout`.
    func waitForOutput(_ text: String, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !output.contains(text) {
            guard process.isRunning, ContinuousClock.now < deadline else {
                throw CLIFailure("\(name) did not print \(text.debugDescription); output:\n\(output)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

struct CLIFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agentauth-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}
