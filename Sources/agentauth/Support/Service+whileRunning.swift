import Logging
import ServiceLifecycle

extension Service {
    /// Runs this service in a service group of its own while `body` works, then shuts it down
    /// gracefully and waits until it has stopped, also when `body` throws; `body`'s error wins
    /// over one from stopping.
    func whileRunning<T>(_ body: () async throws -> T) async throws -> T {
        let group = ServiceGroup(services: [self], logger: Logger(label: "agentauth"))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let result: Result<T, any Error>
            do {
                result = .success(try await body())
            } catch {
                result = .failure(error)
            }
            await group.triggerGracefulShutdown()
            do {
                try await tasks.waitForAll()
            } catch {
                if case .success = result { throw error }
            }
            return try result.get()
        }
    }
}
