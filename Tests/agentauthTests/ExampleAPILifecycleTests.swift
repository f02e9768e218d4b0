import AgentAuthTesting
import Foundation
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `ResourceServerMiddleware` is the service that follows the revocation feed and refreshes the
/// issuer's keys: it must end with the application's graceful shutdown, not hold the process.
@Suite("example-agent-api's lifecycle")
struct ExampleAPILifecycleTests {
    @Test("SIGTERM stops example-agent-api (its feed long-poll and key refresher with it): exit 0 within 5 s")
    func sigtermStopsTheResourceServer() async throws {
        try await withTemporaryDirectory { directory in
            let started = try await AuthServerProcess.start(in: directory)
            defer { started.process.stop() }
            let example = try await ExampleAPIProcess.start(authServer: started.base, admin: started.admin, in: directory)
            defer { example.process.stop() }
            // Ready: the feed has answered, so a long-poll is waiting at the auth server now.
            example.process.process.send(SIGTERM)
            let deadline = ContinuousClock.now + .seconds(5)
            while example.process.process.isRunning, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            guard !example.process.process.isRunning else {
                // Killed, so that the failure is reported rather than the deferred stop() waiting on it for ever.
                example.process.process.send(SIGKILL)
                Issue.record("example-agent-api still runs 5 s after SIGTERM:\n\(example.process.output)")
                return
            }
            #expect(example.process.process.terminationStatus == 0, "\(example.process.output)")
        }
    }

    @Test("SIGTERM with --shutdown-grace: /readyz answers 503 while requests are still served, then exit 0")
    func readinessFailsDuringTheGrace() async throws {
        try await withTemporaryDirectory { directory in
            let started = try await AuthServerProcess.start(in: directory)
            defer { started.process.stop() }
            let example = try await ExampleAPIProcess.start(
                authServer: started.base,
                admin: started.admin,
                in: directory,
                arguments: ["--shutdown-grace", "2"]
            )
            defer { example.process.stop() }
            example.process.process.send(SIGTERM)
            var readiness: Int?
            let graceEnd = ContinuousClock.now + .milliseconds(1500)
            while ContinuousClock.now < graceEnd, readiness != 503 {
                readiness = try? await HTTP.send(.GET, "\(example.base)/readyz", timeout: 5).status
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(readiness == 503, "/readyz during the grace")
            #expect(try await HTTP.send(.GET, "\(example.base)/healthz", timeout: 5).status == 200, "still serving during the grace")
            #expect(await example.process.process.exitStatus() == 0, "\(example.process.output)")
        }
    }
}
