public import Hummingbird
public import NIOCore

/// Runs a test's Hummingbird application on a free loopback port chosen before it is built, for
/// servers that must know their own URL first (an auth server whose issuer is its address, a
/// resource server that redirects to itself).
public enum LoopbackServer {
    /// Builds the application for a free port with `make` (which passes the callback on as
    /// `onServerRunning`), runs it, and runs `body` with the port once it listens; the
    /// application stops when `body` returns. A port found free can be taken before the server
    /// binds it (the suite runs in parallel, and clients' connections take ephemeral ports too):
    /// then another port is tried.
    public static func run<App: ApplicationProtocol, T>(
        _ make: (Int, @escaping @Sendable (any Channel) async -> Void) async throws -> App,
        _ body: (Int) async throws -> T
    ) async throws -> T {
        for _ in 0..<10 {
            let port = try LoopbackPort.free()
            let (events, continuation) = AsyncStream<Bool>.makeStream()
            let app = try await make(port) { _ in continuation.yield(true) }
            let listening = try await withThrowingTaskGroup(of: Void.self) { group -> T? in
                group.addTask {
                    do {
                        try await app.run()
                    } catch {
                        continuation.yield(false)
                    }
                }
                defer { group.cancelAll() }
                var iterator = events.makeAsyncIterator()
                guard await iterator.next() == true else { return nil }
                return try await body(port)
            }
            if let listening { return listening }
        }
        throw TestFailure("no free loopback port could be bound")
    }
}
