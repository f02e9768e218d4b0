import AgentAuthTesting
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

    /// Runs `agentauth` with `arguments` in `directory` and waits for it.
    static func agentauth(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) async throws -> Result {
        let result = try await ChildProcess.run(
            url("agentauth").path,
            arguments,
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
            directory: directory.path
        )
        return Result(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }
}

/// A built executable running as a long-lived child (a server), its output collected as it
/// arrives; stopped with SIGTERM when dropped.
final class RunningProcess: Sendable {
    let process: ChildProcess
    let name: String

    /// Starts the built `executable`; with a `launcher` (e.g. `["/usr/bin/prlimit", "--nofile=256", "--"]`),
    /// through it, which then execs the executable in the same process.
    init(_ executable: String, _ arguments: [String], in directory: URL, environment: [String: String] = [:], launcher: [String] = []) async throws {
        name = executable
        let command = launcher + [Binaries.url(executable).path] + arguments
        process = try await ChildProcess(
            command[0],
            Array(command.dropFirst()),
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
            directory: directory.path
        )
    }

    var output: String { process.output }

    /// Waits until the output contains `text`, or fails after `timeout`.
    func waitForOutput(_ text: String, timeout: Duration = .seconds(60)) async throws {
        do {
            try await process.waitForOutput(text, timeout: timeout)
        } catch {
            throw CLIFailure("\(name) did not print \(text.debugDescription); output:\n\(output)")
        }
    }

    func stop() {
        if process.isRunning { process.stop() }
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
