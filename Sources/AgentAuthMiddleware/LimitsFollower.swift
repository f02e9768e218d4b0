public import AgentAuthCore
public import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
import NIOHTTP1
public import ServiceLifecycle
import Synchronization

/// Keeps a resource server's `LimitsState` (tiers, assignments, used-up quotas) in step with the
/// auth server: fetches `GET /oauth/limits` at start, within about 50 ms of the revocation feed
/// bringing a `.limits` event, and every `refreshInterval` besides; a fetch that fails is retried.
/// The fetch runs here, not in the feed follower, so a large snapshot never holds up the next
/// revocation. Used-up quotas (`.quota` events) are applied from the feed directly.
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
    static let checkInterval: Duration = .milliseconds(50)

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

    /// What the feed brought: used-up quotas apply at once; a change of limits asks for a fetch.
    public func feedDelivered(_ events: [RevocationEvent]) {
        if state.apply(events) { stale.store(true, ordering: .releasing) }
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
        let began = state.beginFetch()
        var request = HTTPClientRequest(url: endpoint)
        request.headers.add(name: "X-API-Key", value: credential)
        do {
            let response = try await httpClient.execute(request, timeout: .seconds(10))
            guard response.status == .ok else { throw LimitsUnavailable(status: Int(response.status.code)) }
            let body = try await response.body.collect(upTo: 64 * 1024 * 1024)
            state.replace(with: try JSONDecoder().decode(LimitsSnapshot.self, from: Data(body.readableBytesView)), fetchBegan: began)
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
