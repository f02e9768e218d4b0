import AgentAuthTesting
import Foundation
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension TimedProcessTests {
    /// `agentauth serve` under a low file-descriptor limit, flooded with idle connections well past
    /// it: it must never crash (it used to die with SIGILL when libdispatch could not open
    /// `/proc/<tid>/stat`, or drop every connection at once), must keep serving the connections it
    /// has, and must serve new ones as soon as the flood's close.
    ///
    /// Each trial starts a fresh server: `AGENTAUTH_FD_TRIALS` sets how many (default 2;
    /// `scripts/fd-exhaustion.sh` runs 20).
    @Suite("File-descriptor exhaustion", .serialized)
    struct DescriptorExhaustionTests {
        static let limit = 256
        static var trials: Int { Int(ProcessInfo.processInfo.environment["AGENTAUTH_FD_TRIALS"] ?? "") ?? 2 }
        static let prlimit = "/usr/bin/prlimit"

        @Test("idle connections past the descriptor limit never crash the server; it serves again once they close")
        func flood() async throws {
            for trial in 1...Self.trials {
                try await withTemporaryDirectory { directory in
                    let server = try await AuthServerProcess.start(in: directory, launcher: [Self.prlimit, "--nofile=\(Self.limit)", "--"])
                    defer { server.process.stop() }
                    // Opened before the flood: the reserve keeps the server able to serve it, store included.
                    let kept = try RawConnection(port: server.port)

                    let sampler = DescriptorSampler(pid: server.process.process.processIdentifier)
                    let flood = try await RawConnection.offPool { try Self.openConnections(port: server.port, count: 3 * Self.limit) }
                    try await Task.sleep(for: .seconds(2))
                    if !server.process.process.isRunning {
                        Issue.record(
                            "trial \(trial): the server died during the flood (status \(server.process.process.terminationStatus)):\n\(server.process.output)"
                        )
                        return
                    }
                    let peak = sampler.stop()
                    // At rest ~30, the cap 128, the accept headroom 32: never near the limit.
                    #expect(peak <= Self.limit - 48, "trial \(trial): \(peak) descriptors open at the peak of the flood")
                    let stillOpen = try await RawConnection.offPool { flood.filter { !$0.closedByPeer(within: .milliseconds(1)) }.count }
                    #expect(stillOpen < Self.limit, "trial \(trial): \(stillOpen) connections held under a limit of \(Self.limit)")
                    let answer = try await RawConnection.offPool {
                        let body = #"{"name":"during the flood"}"#
                        kept.send(
                            "POST /admin/agents HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: \(server.adminKey)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                        )
                        return RawResponse(kept.read(timeout: .seconds(10), untilResponseEnd: true).bytes)
                    }
                    #expect(answer.status == 201, "trial \(trial): a kept connection during the flood got \(answer.status) \(answer.body)")

                    let closedAt = ContinuousClock.now
                    let connected = flood.count
                    drop(flood)
                    let health = try await HTTP.send(.GET, "\(server.base)/healthz", timeout: 5)
                    #expect(health.status == 200)
                    let recovery = ContinuousClock.now - closedAt
                    #expect(recovery < .seconds(3), "trial \(trial): /healthz took \(recovery)")
                    print(
                        "fd trial \(trial): \(connected) of \(3 * Self.limit) connected, \(stillOpen) held open, peak \(peak) descriptors, kept connection \(answer.status), /healthz \(health.status) \(recovery) after the flood closed"
                    )
                    #expect(server.process.process.isRunning)
                    server.process.process.terminate()
                    let status = try await RawConnection.offPool { server.process.process.terminationStatus }
                    #expect(status == 0, "trial \(trial): exit status \(status):\n\(server.process.output)")
                }
            }
        }

        @Test("serve raises its soft descriptor limit to the hard one and derives its connection cap from it")
        func raisesSoftLimit() async throws {
            try await withTemporaryDirectory { directory in
                let server = try await AuthServerProcess.start(in: directory, launcher: [Self.prlimit, "--nofile=256:4096", "--"])
                defer { server.process.stop() }
                let limits = try String(contentsOfFile: "/proc/\(server.process.process.processIdentifier)/limits", encoding: .utf8)
                let line = try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max open files") })
                #expect(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).prefix(2) == ["4096", "4096"], "\(line)")
            }
            // A cap that leaves the server too few descriptors for itself stops the start with one clear line.
            try await withTemporaryDirectory { directory in
                let result = try await ChildProcess.run(
                    Self.prlimit,
                    [
                        "--nofile=256", "--", Binaries.url("agentauth").path, "serve", "--port", "\(try LoopbackPort.free())", "--max-connections",
                        "200",
                    ],
                    directory: directory.path
                )
                #expect(result.status != 0)
                #expect(result.stderr.contains("--max-connections 200 leaves fewer than 128 of the 256 file descriptors"), "\(result.stderr)")
            }
        }

        /// Counts the descriptors `pid` has open, every millisecond, on a thread of its own, and keeps the highest count.
        final class DescriptorSampler: @unchecked Sendable {
            private let lock = NSLock()
            private var highest = 0
            private var running = true

            init(pid: pid_t) {
                Thread.detachNewThread { [self] in
                    while lock.withLock({ running }) {
                        let count = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
                        lock.withLock { highest = max(highest, count) }
                        // Often enough to catch the peak of a flood, without taking a core from the tests beside it.
                        usleep(1000)
                    }
                }
            }

            /// Stops sampling; the highest count seen.
            func stop() -> Int {
                lock.withLock {
                    running = false
                    return highest
                }
            }
        }

        /// Connects `count` times; connections the kernel refuses or the server resets are skipped.
        static func openConnections(port: Int, count: Int) throws -> [RawConnection] {
            (0..<count).compactMap { _ in try? RawConnection(port: port, connectTimeout: .seconds(1)) }
        }

        func drop(_ connections: consuming [RawConnection]) {
            _ = consume connections
        }
    }
}
