public import Foundation
import Subprocess
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A child process for the tests (`agentauth serve`, `example-agent-api`, `postgres`), run by
/// swift-subprocess and read line by line while it runs.
///
/// Not Foundation's `Process`: on Linux its `run()` scans `/proc/self/fd` with a fixed 256-byte
/// copy of each directory entry and crashed the whole test process now and then
/// (swiftlang/swift-corelibs-foundation#5472; a SIGSEGV about one full run in five).
/// swift-subprocess spawns with every other descriptor closed and watches the child through a
/// pidfd. It runs a child inside a closure's scope; a server that lives across a test (or, for
/// PostgreSQL, as long as the test process) is that closure running in a task of its own, which
/// hands back the pid and keeps a pidfd of its own, so a signal or a wait never reaches another
/// process that reused the pid.
public final class ChildProcess: Sendable {
    public let processIdentifier: Int32
    private let processDescriptor: Int32
    private let storage: Storage
    private let task: Task<Void, Never>

    /// Starts `executable` with stdin from /dev/null and stdout and stderr together collected
    /// (`output`), in its own process group (a ^C meant for the tests isn't sent to it).
    public init(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        directory: String? = nil
    ) async throws {
        let storage = Storage()
        let (started, announce) = AsyncStream<(pid_t, Int32)>.makeStream()
        var options = PlatformOptions()
        options.processGroupID = 0
        task = Task.detached {
            do {
                let result = try await Subprocess.run(
                    .path(FilePath(executable)),
                    arguments: Arguments(arguments),
                    environment: Self.environment(environment),
                    workingDirectory: directory.map { FilePath($0) },
                    platformOptions: options,
                    input: .none,
                    output: .sequence,
                    error: .combinedWithOutput
                ) { execution in
                    announce.yield((execution.processIdentifier.value, dup(execution.processIdentifier.processDescriptor)))
                    announce.finish()
                    for try await line in execution.standardOutput.strings(bufferingPolicy: .unbounded) {
                        storage.append(line)
                    }
                }
                storage.finish(Self.code(result.terminationStatus))
            } catch {
                announce.finish()
                storage.append("ChildProcess: \(error)")
                storage.finish(-1)
            }
        }
        var iterator = started.makeAsyncIterator()
        guard let (pid, descriptor) = await iterator.next() else {
            throw ChildProcessError("cannot start \(executable): \(storage.output)")
        }
        processIdentifier = pid
        processDescriptor = descriptor
        self.storage = storage
    }

    deinit {
        if processDescriptor >= 0 { close(processDescriptor) }
    }

    /// What the child wrote to stdout and stderr so far, line by line.
    public var output: String { storage.output }

    public var isRunning: Bool { storage.status == nil }

    /// The exit status, or the signal that ended it, once it has ended.
    public func exitStatus() async -> Int32 {
        await task.value
        return storage.status ?? -1
    }

    /// The exit status, or the signal that ended it; blocks until it has ended, so call it off
    /// the cooperative pool (`RawConnection.offPool`) or once `isRunning` is false.
    public var terminationStatus: Int32 { storage.waitForStatus() }

    public func terminate() {
        send(SIGTERM)
    }

    public func send(_ signal: Int32) {
        // Through the pidfd, which names this child even once its pid is reaped and reused.
        if Self.pidfdSendSignal(processDescriptor, signal, nil, 0) != 0, isRunning {
            kill(processIdentifier, signal)
        }
    }

    typealias PidfdSendSignal = @convention(c) (Int32, Int32, UnsafeMutableRawPointer?, UInt32) -> Int32

    /// glibc has it since 2.36, but its header doesn't declare it to Swift's Glibc module.
    private static let pidfdSendSignal: PidfdSendSignal =
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pidfd_send_signal").map { unsafeBitCast($0, to: PidfdSendSignal.self) } ?? { _, _, _, _ in -1 }

    /// Blocks until the child has exited (its pidfd turns readable); needs no other thread, so it
    /// is safe where a test's `defer` must wait.
    public func waitUntilExit() {
        // A kernel without pidfds (before 5.3): wait for the reading task to see the end.
        guard processDescriptor >= 0 else {
            _ = storage.waitForStatus()
            return
        }
        var poller = pollfd(fd: processDescriptor, events: Int16(POLLIN), revents: 0)
        while poll(&poller, 1, -1) < 0 && errno == EINTR {}
    }

    /// Sends SIGTERM and waits for the end.
    public func stop() {
        terminate()
        waitUntilExit()
    }

    /// Waits until the output contains `text`; fails when the child ends first or after `timeout`.
    public func waitForOutput(_ text: String, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !output.contains(text) {
            guard isRunning, ContinuousClock.now < deadline else {
                throw ChildProcessError("\(processIdentifier) did not print \(text.debugDescription); output:\n\(output)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Runs `executable` to its end and returns its status and output.
    public static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        directory: String? = nil
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let result = try await Subprocess.run(
            .path(FilePath(executable)),
            arguments: Arguments(arguments),
            environment: Self.environment(environment),
            workingDirectory: directory.map { FilePath($0) },
            output: .string(limit: 1 << 24),
            error: .string(limit: 1 << 24)
        )
        return (code(result.terminationStatus), result.standardOutput, result.standardError)
    }

    private static func environment(_ variables: [String: String]) -> Subprocess.Environment {
        .custom(Dictionary(uniqueKeysWithValues: variables.map { (Subprocess.Environment.Key(stringLiteral: $0.key), $0.value) }))
    }

    /// The exit code, or the number of the signal that ended it (as the shell tells them apart).
    private static func code(_ status: TerminationStatus) -> Int32 {
        switch status {
        case .exited(let code): code
        case .signaled(let signal): signal
        }
    }

    /// What the reading task and the test share.
    private final class Storage: @unchecked Sendable {
        private let condition = NSCondition()
        private var lines: [String] = []
        private var ended: Int32?

        func append(_ line: String) {
            condition.lock()
            lines.append(line)
            condition.unlock()
        }

        func finish(_ status: Int32) {
            condition.lock()
            ended = status
            condition.broadcast()
            condition.unlock()
        }

        var output: String {
            condition.lock()
            defer { condition.unlock() }
            return lines.joined(separator: "\n")
        }

        var status: Int32? {
            condition.lock()
            defer { condition.unlock() }
            return ended
        }

        func waitForStatus() -> Int32 {
            condition.lock()
            defer { condition.unlock() }
            while ended == nil { condition.wait() }
            return ended ?? -1
        }
    }
}

public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
