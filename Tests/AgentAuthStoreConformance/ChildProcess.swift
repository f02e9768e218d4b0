public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A child process for the tests, started with `posix_spawn` directly.
///
/// Why not Foundation's `Process`: on Linux its `run()` scans `/proc/self/fd` with a fixed
/// 256-byte copy of each directory entry and crashes the whole test process now and then
/// (swiftlang/swift-corelibs-foundation#5472; seen here as a SIGSEGV in `Process.run()` about
/// one full run in five). swift-subprocess runs a child only inside a closure's scope, which
/// fits neither servers that live across a test nor the PostgreSQL server that lives as long
/// as the test process. This is the small part of `Process` the tests use: spawn with stdin
/// from /dev/null, stdout and stderr to pipes or /dev/null, every other descriptor closed in
/// the child; wait; signal.
public final class ChildProcess: @unchecked Sendable {
    public let processIdentifier: pid_t
    private let condition = NSCondition()
    private var status: Int32?

    /// Starts `executable`. `stdout`/`stderr` may be the same pipe; `nil` is /dev/null. The
    /// parent's write ends of the pipes are closed once the child has them.
    public init(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        directory: String? = nil,
        stdout: Pipe? = nil,
        stderr: Pipe? = nil
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for (target, pipe) in [(Int32(1), stdout), (Int32(2), stderr)] {
            if let pipe {
                posix_spawn_file_actions_adddup2(&actions, pipe.fileHandleForWriting.fileDescriptor, target)
            } else {
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
            }
        }
        if let directory {
            guard Self.addChdir(&actions, directory) == 0 else { throw ChildProcessError("posix_spawn_file_actions_addchdir_np failed") }
        }
        guard Self.addCloseFrom(&actions, 3) == 0 else { throw ChildProcessError("posix_spawn_file_actions_addclosefrom_np failed") }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, as Foundation does: a ^C meant for the tests isn't sent to it.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        var pid = pid_t()
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else { throw ChildProcessError("cannot start \(executable): \(String(cString: strerror(result)))") }
        processIdentifier = pid
        let child = pid
        try? stdout?.fileHandleForWriting.close()
        if let stderr, stderr !== stdout { try? stderr.fileHandleForWriting.close() }
        // One thread per child reaps it, so status and waiting never race a second waitpid.
        let reaper = Thread { [self] in
            var raw: Int32 = 0
            while waitpid(child, &raw, 0) == -1 && errno == EINTR {}
            // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift doesn't import.
            let signal = raw & 0x7F
            condition.lock()
            status = signal == 0 ? (raw >> 8) & 0xFF : signal
            condition.broadcast()
            condition.unlock()
        }
        reaper.start()
    }

    public var isRunning: Bool {
        condition.lock()
        defer { condition.unlock() }
        return status == nil
    }

    /// The exit status, or the signal that ended it; blocks until it has ended.
    public var terminationStatus: Int32 {
        waitUntilExit()
        condition.lock()
        defer { condition.unlock() }
        return status ?? -1
    }

    /// Blocks the calling thread: call it off the cooperative pool (or when the end is imminent).
    public func waitUntilExit() {
        condition.lock()
        while status == nil { condition.wait() }
        condition.unlock()
    }

    public func terminate() {
        send(SIGTERM)
    }

    public func send(_ signal: Int32) {
        if isRunning { kill(processIdentifier, signal) }
    }

    /// Runs `executable` to its end, on a Dispatch thread (not the cooperative pool), and
    /// returns its status and output.
    public static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        directory: String? = nil
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        let out = Pipe()
                        let err = Pipe()
                        let child = try ChildProcess(executable, arguments, environment: environment, directory: directory, stdout: out, stderr: err)
                        // Read both at once: a child filling one pipe while we wait on the other would hang.
                        let group = DispatchGroup()
                        nonisolated(unsafe) var stderrData = Data()
                        group.enter()
                        DispatchQueue.global().async {
                            stderrData = err.fileHandleForReading.readDataToEndOfFile()
                            group.leave()
                        }
                        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
                        group.wait()
                        return (child.terminationStatus, String(decoding: stdoutData, as: UTF8.self), String(decoding: stderrData, as: UTF8.self))
                    }
                )
            }
        }
    }

    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    /// glibc has both (2.34 and 2.29), but its header doesn't declare them to Swift's Glibc
    /// module: look them up.
    private static let addCloseFrom: AddCloseFrom = symbol("posix_spawn_file_actions_addclosefrom_np") ?? { _, _ in ENOSYS }
    private static let addChdir: AddChdir = symbol("posix_spawn_file_actions_addchdir_np") ?? { _, _ in ENOSYS }

    private static func symbol<Function>(_ name: String) -> Function? {
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), name).map { unsafeBitCast($0, to: Function.self) }
    }
}

public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
