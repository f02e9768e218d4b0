import AgentAuthCore
import Foundation
import ServiceLifecycle
import Synchronization

/// Keeps this node's `RevocationList` equal to the store's revocation events, whoever wrote
/// them (this node, the CLI, another node), and its `LimitsState` too (used-up quotas as they
/// come, a new snapshot when limits changed), reloads the signing keys when a rotation's events
/// arrive, and wakes feed requests waiting for a later `seq` (only then: a verifier that learns
/// of a rotation from this node finds the new key in its JWKS).
final class RevocationSync: Sendable {
    let store: any AgentAuthStore
    let list: RevocationList
    let limits: LimitsState
    let keyRing: SigningKeyRing
    let now: @Sendable () -> Date
    /// Waits for the verifiers to acknowledge a change (`syncAndConfirm`).
    let confirmation: RevocationConfirmation
    private let latest = Atomic<Int64>(0)
    private let waiters = Mutex(Waiters())

    /// Feed requests suspended until the latest `seq` passes theirs. Continuations rather than
    /// a library primitive: what is needed is a broadcast to the waiters whose cursor the new
    /// `seq` passes, each also ended by its own timeout, cancellation or shutdown, and neither
    /// NIO nor the standard library has one; an `AsyncStream` per waiter would cost more.
    private struct Waiters {
        var nextID: UInt64 = 0
        var pending: [UInt64: (after: Int64, continuation: CheckedContinuation<Void, Never>)] = [:]
    }

    init(
        store: any AgentAuthStore,
        list: RevocationList,
        limits: LimitsState = LimitsState(),
        keyRing: SigningKeyRing,
        confirmation: RevocationConfirmation? = nil,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.confirmation = confirmation ?? RevocationConfirmation(store: store, now: now)
        self.store = store
        self.list = list
        self.limits = limits
        self.keyRing = keyRing
        self.now = now
    }

    var latestSeq: Int64 { latest.load(ordering: .acquiring) }

    /// Feed requests waiting now.
    var waitingCount: Int { waiters.withLock { $0.pending.count } }

    /// Reads events after the list's cursor and applies them, then wakes the waiters they concern.
    func sync() async throws {
        let bounds = try await store.revocationBounds()
        defer { advance(to: max(bounds.latest, list.cursor)) }
        guard bounds.latest > list.cursor else { return }
        var cursor = list.cursor
        var rotated = false
        var limitsChanged = false
        while true {
            let events = try await store.revocations(after: cursor, limit: 1000)
            guard let last = events.last else { break }
            list.apply(events)
            if limits.apply(events) { limitsChanged = true }
            rotated = rotated || events.contains { $0.kind == .signingKey }
            cursor = last.seq
        }
        if rotated { try await keyRing.reload() }
        if limitsChanged { try await reloadLimits() }
    }

    /// For a revocation just stored: brings it to this node (which wakes the verifiers' waiting
    /// polls, so they fetch it at once) and returns once the live verifiers acknowledged it, or at
    /// the confirmation's timeout.
    func syncAndConfirm() async -> RevocationPropagation {
        try? await sync()
        return await confirmation.waitForVerifiers()
    }

    /// Replaces the limits with the store's.
    func reloadLimits() async throws {
        let began = limits.beginFetch()
        limits.replace(with: try await LimitsController.snapshot(of: store, now: now()), fetchBegan: began)
    }

    /// Returns once an event after `after` is known to this node, or after `timeout`, or when
    /// the task is cancelled or graceful shutdown begins, whichever is first. Nothing runs while
    /// it waits: `sync()` resumes it.
    func waitForEvents(after: Int64, timeout: Duration) async {
        guard latestSeq <= after, timeout > .zero else { return }
        let deadline = ContinuousClock.now + timeout
        let id = waiters.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withDiscardingTaskGroup { group in
            group.addTask {
                try? await Task.sleep(until: deadline)
                self.wake(id)
            }
            await withGracefulShutdownHandler {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        suspend(id, after: after, until: deadline, continuation)
                    }
                } onCancel: {
                    wake(id)
                }
            } onGracefulShutdown: {
                self.wake(id)
            }
            group.cancelAll()
        }
    }

    private func suspend(_ id: UInt64, after: Int64, until deadline: ContinuousClock.Instant, _ continuation: CheckedContinuation<Void, Never>) {
        // Checked under the lock that `advance` and `wake` take, so a wake-up that came before
        // the waiter was stored is seen here instead of lost.
        let waitsOn = waiters.withLock { state in
            guard latestSeq <= after, !Task.isCancelled, !Task.isShuttingDownGracefully, ContinuousClock.now < deadline else { return false }
            state.pending[id] = (after, continuation)
            return true
        }
        if !waitsOn { continuation.resume() }
    }

    private func wake(_ id: UInt64) {
        waiters.withLock { $0.pending.removeValue(forKey: id) }?.continuation.resume()
    }

    private func advance(to seq: Int64) {
        let woken = waiters.withLock { state -> [CheckedContinuation<Void, Never>] in
            let previous = latest.load(ordering: .relaxed)
            latest.store(seq, ordering: .releasing)
            guard seq > previous, !state.pending.isEmpty else { return [] }
            let due = state.pending.filter { $0.value.after < seq }
            for id in due.keys { state.pending.removeValue(forKey: id) }
            return due.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }
}
