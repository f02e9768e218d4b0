import AgentAuthTesting
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The child-process starter every process test stands on: output read while the child runs,
/// signals, and the exit status.
@Suite("Child processes")
struct ChildProcessTests {
    /// A shell that prints a line, then waits for SIGINT and exits 3 when it comes.
    static let waiter = #"trap 'echo "interrupted"; exit 3' INT; echo "ready $$"; while :; do sleep 0.05; done"#

    @Test("a running child's output is read line by line while it runs; SIGINT ends it with the status it chose")
    func outputSignalAndStatus() async throws {
        let child = try await ChildProcess("/bin/sh", ["-c", Self.waiter])
        try await child.waitForOutput("ready", timeout: .seconds(10))
        #expect(child.isRunning)
        #expect(child.output == "ready \(child.processIdentifier)", "the pid handed back is the child's own")
        child.send(SIGINT)
        #expect(await child.exitStatus() == 3)
        #expect(!child.isRunning)
        #expect(child.output.hasSuffix("interrupted"))
    }

    @Test("SIGTERM stops a child that ignores nothing; stopping it again once it has exited returns at once")
    func stopIsIdempotent() async throws {
        let child = try await ChildProcess("/bin/sh", ["-c", "echo up; while :; do sleep 0.05; done"])
        try await child.waitForOutput("up", timeout: .seconds(10))
        child.stop()
        #expect(await child.exitStatus() == SIGTERM, "ended by the signal")
        let start = ContinuousClock.now
        child.stop()
        #expect(ContinuousClock.now - start < .seconds(1))
    }

    @Test("a run to the end keeps stdout and stderr apart, and a missing executable is an error, not a crash")
    func runToEnd() async throws {
        let result = try await ChildProcess.run("/bin/sh", ["-c", "echo out; echo err >&2; exit 7"])
        #expect(result.status == 7)
        #expect(result.stdout == "out\n")
        #expect(result.stderr == "err\n")
        await #expect(throws: (any Error).self) { _ = try await ChildProcess("/nonexistent/agentauth", []) }
    }
}
