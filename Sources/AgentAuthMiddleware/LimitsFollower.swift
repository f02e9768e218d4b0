public import AgentAuthCore
public import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
import NIOHTTP1
public import ServiceLifecycle
import Synchronization

/// Keeps a resource server's `LimitsState` (tiers, assignments, used-up quotas) in step with the
/// auth server: fetches `GET /oauth/limits` at start, as soon as the revocation feed brings a
/// `.limits` event (by the feed follower, before its next poll), and every `refreshInterval`
/// besides; a fetch that fails is retried by the run loop. Used-up quotas (`.quota` events) are
/// applied from the feed directly, without a fetch.
///
/// Until the first fetch succeeds nothing is limited: a verifier that starts while the auth
/// server is down serves as it would without tiers rather than refusing everyone.
public final class LimitsFollower: Service, Sendable {
    let endpoint: String
    let credential: String
    let httpClient: HTTPClient
    let refreshInterval: Duration
    let logger: Logger
    public let state: LimitsState
    /// Set when the feed says limits changed; the run loop fetches soon after.
    private let stale = Atomic<Bool>(true)
    private let lastFetch = Mutex<ContinuousClock.Instant?>(nil)

    /// How often the run loop looks whether a fetch is due.
    static let checkInterval: Duration = .milliseconds(100)

    public init(
        authServer: String,
        credential: String,
        state: LimitsState = LimitsState(),
        httpClient: HTTPClient = RevocationFeedFollower.defaultHTTPClient,
        refreshInterval: Duration = .seconds(60),
        logger: Logger = Logger(label: "agentauth.limits")
    ) {
        let base = authServer.hasSuffix("/") ? String(authServer.dropLast()) : authServer
        self.endpoint = base + "/oauth/limits"
        self.credential = credential
        self.state = state
        self.httpClient = httpClient
        self.refreshInterval = refreshInterval
        self.logger = logger
    }

    /// What the feed brought: used-up quotas apply at once; a change of limits is fetched now
    /// (and, should that fail, by the run loop until it succeeds).
    public func feedDelivered(_ events: [RevocationEvent]) async {
        guard state.apply(events) else { return }
        stale.store(true, ordering: .releasing)
        do {
            try await fetch()
        } catch {
            logger.warning("limits unavailable; retrying")
        }
    }

    /// The feed started over: anything may have changed.
    public func feedWasReset() {
        stale.store(true, ordering: .releasing)
    }

    public func run() async throws {
        var failures = 0
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let due = lastFetch.withLock { last in last.map { ContinuousClock.now - $0 >= refreshInterval } ?? true }
            if due || stale.load(ordering: .acquiring) {
                do {
                    try await fetch()
                    failures = 0
                } catch {
                    failures += 1
                    logger.warning("limits unavailable; retrying", metadata: ["failures": "\(failures)"])
                    let delay = RevocationFeedFollower.backoff(failures: failures)
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
                    continue
                }
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: Self.checkInterval) }
        }
    }

    /// Fetches the limits and replaces the state with them.
    public func fetch() async throws {
        // Cleared before the request: a change announced while it is under way asks again.
        stale.store(false, ordering: .releasing)
        var request = HTTPClientRequest(url: endpoint)
        request.headers.add(name: "X-API-Key", value: credential)
        do {
            let response = try await httpClient.execute(request, timeout: .seconds(10))
            guard response.status == .ok else { throw LimitsUnavailable(status: Int(response.status.code)) }
            let body = try await response.body.collect(upTo: 64 * 1024 * 1024)
            state.replace(with: try JSONDecoder().decode(LimitsSnapshot.self, from: Data(body.readableBytesView)))
            lastFetch.withLock { $0 = ContinuousClock.now }
        } catch {
            stale.store(true, ordering: .releasing)
            throw error
        }
    }

    struct LimitsUnavailable: Error {
        let status: Int
    }
}
