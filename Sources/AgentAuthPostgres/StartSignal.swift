import Foundation
import Synchronization

/// A one-way signal: `wait()` returns once `fire()` has been called (at once after that), and
/// throws `CancellationError` when its task is cancelled first. Written here because neither
/// NIO, swift-async-algorithms nor the standard library has a one-shot latch that many tasks
/// await with cancellation; an `AsyncStream` per waiter would do the same with more machinery.
final class StartSignal: Sendable {
    private enum State {
        case waiting([UUID: CheckedContinuation<Void, any Error>])
        case fired
    }

    private let state = Mutex(State.waiting([:]))

    func fire() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            guard case .waiting(let waiters) = state else { return [] }
            state = .fired
            return Array(waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async throws {
        guard !state.withLock({ if case .fired = $0 { true } else { false } }) else { return }
        let id = UUID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: (any Error)?? = state.withLock { state in
                    guard case .waiting(var waiters) = state else { return .some(nil) }
                    if Task.isCancelled { return .some(CancellationError()) }
                    waiters[id] = continuation
                    state = .waiting(waiters)
                    return .none
                }
                switch resumeNow {
                case .some(.some(let error)): continuation.resume(throwing: error)
                case .some(.none): continuation.resume()
                case .none: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard case .waiting(var waiters) = state, let waiter = waiters.removeValue(forKey: id) else { return nil }
                state = .waiting(waiters)
                return waiter
            }
            waiter?.resume(throwing: CancellationError())
        }
    }
}
