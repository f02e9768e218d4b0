public import AgentAuthCore
public import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
import NIOHTTP1
public import ServiceLifecycle
import Synchronization

/// Follows the auth server's revocation feed (`GET /oauth/revocations`, long-poll) and keeps a
/// local `RevocationList` (revoked jtis, disabled agents), the API-key cache and the signing
/// keys (`keySource`: rotations) in step with it. Reconnects with jittered exponential back-off.
/// Run it as a `Service` beside the HTTP server.
///
/// It is a *verifier*: each poll names it (`verifierName`, a random `instanceID`, and its
/// `stalenessBound`), so the auth server lists it (`GET /admin/verifiers`) and a revocation
/// answers once it has acknowledged it — by polling again with a cursor past it, which it does
/// only after applying the page.
///
/// `isFresh` tells whether a poll started within `stalenessBound` was answered: while it is not,
/// cached API-key results are not used (each key is introspected, failing closed when the auth
/// server can't answer) and `/readyz` says so; access tokens keep being verified locally for
/// `tokenStalenessBound`, because they are short-lived and signature, expiry and the revocations
/// known so far are still checked. The bound is counted from the start of the answered poll, not
/// from the answer: the auth server counts it from the poll's arrival, so the verifier stops
/// trusting its cache no later than the server stops waiting for it (docs/revocation.md).
public final class RevocationFeedFollower: Service, Sendable {
    let endpoint: String
    let credential: String
    let httpClient: HTTPClient
    let waitSeconds: Int
    let stalenessBound: Duration
    /// How long access tokens keep being accepted from memory while the feed is stale; past it
    /// they fail closed (503) too.
    let tokenStalenessBound: Duration
    /// The name the auth server lists this verifier under.
    public let verifierName: String
    /// This process's instance id, new at every start.
    public let instanceID: String
    let logger: Logger
    public let revocations: RevocationList
    public let apiKeyCache: APIKeyCache
    /// Told of signing-key rotations (and feed resets), so it fetches a new key before tokens
    /// carry it and drops a retired one the moment it leaves the JWKS.
    public let keySource: (any FeedFollowingKeySource)?
    /// Told of `.limits` and `.quota` events (and feed resets), to keep rate limits and quotas current.
    public let limits: LimitsFollower?
    /// When the last answered poll started, while the deny-list was complete; `nil` until the
    /// first complete load, and again while a reset's reload is under way.
    private let lastAnswer = Mutex<ContinuousClock.Instant?>(nil)
    /// Whether the last page was the feed's last: a full page means more events wait behind it.
    private let caughtUp = Mutex(false)

    /// The feed's page size (`/oauth/revocations` answers at most this many events at once).
    static let pageSize = 1000
    private let lastPrune = Mutex<ContinuousClock.Instant?>(nil)
    /// How often expired entries are dropped from `revocations`: a scan of the whole deny-list,
    /// so not after every poll (a list of a million entries would be scanned a thousand times
    /// while it loads).
    static let pruneInterval: Duration = .seconds(60)

    /// - Parameters:
    ///   - authServer: the auth server's base URL.
    ///   - credential: an API key with scope `introspect`.
    ///   - keySource: the verifier's keys (its `RemoteJWKS`), to follow rotations.
    ///   - waitSeconds: how long each long-poll may wait; keep it well under `stalenessBound`.
    public init(
        authServer: String,
        credential: String,
        revocations: RevocationList = RevocationList(),
        apiKeyCache: APIKeyCache = APIKeyCache(),
        keySource: (any FeedFollowingKeySource)? = nil,
        limits: LimitsFollower? = nil,
        httpClient: HTTPClient = RevocationFeedFollower.defaultHTTPClient,
        waitSeconds: Int = 5,
        stalenessBound: Duration = .seconds(15),
        tokenStalenessBound: Duration = .seconds(300),
        verifierName: String = RevocationFeedFollower.defaultVerifierName,
        instanceID: String = RevocationFeedFollower.newInstanceID(),
        logger: Logger = Logger(label: "agentauth.revocations")
    ) {
        self.verifierName = Verifier.isValidName(verifierName) ? verifierName : "verifier"
        self.instanceID = instanceID
        let base = authServer.hasSuffix("/") ? String(authServer.dropLast()) : authServer
        self.endpoint = base + "/oauth/revocations"
        self.credential = credential
        self.revocations = revocations
        self.apiKeyCache = apiKeyCache
        self.keySource = keySource
        self.limits = limits
        self.httpClient = httpClient
        self.waitSeconds = waitSeconds
        // No longer than the longest bound the auth server takes: it must never count this
        // verifier stale (and stop waiting for it) while it still trusts its cache.
        self.stalenessBound = min(stalenessBound, .milliseconds(Verifier.boundRange.upperBound))
        self.tokenStalenessBound = tokenStalenessBound
        self.logger = logger
    }

    /// The host name, the name a verifier goes by unless given one.
    public static var defaultVerifierName: String {
        let host = ProcessInfo.processInfo.hostName
        return Verifier.isValidName(host) ? host : "verifier"
    }

    /// A random instance id.
    public static func newInstanceID() -> String {
        "vfr_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }

    /// A client for long-polls: a short connect timeout (fail fast when the server is down), a
    /// read timeout longer than any wait the feed allows (30 s).
    public static let defaultHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(1), read: .seconds(45))
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// Whether the deny-list has been loaded to the feed's end at least once (before that,
    /// revocations are unknown).
    public var hasSynced: Bool { lastAnswer.withLock { $0 != nil } }

    /// Whether access tokens may still be verified from memory: the feed answered once, and not
    /// longer ago than `tokenStalenessBound`.
    public var acceptsTokens: Bool {
        guard let last = lastAnswer.withLock({ $0 }) else { return false }
        return ContinuousClock.now - last < tokenStalenessBound
    }

    /// How long ago the last answered poll started; `nil` while none was answered.
    public var timeSinceLastAnswer: Duration? {
        lastAnswer.withLock { $0 }.map { ContinuousClock.now - $0 }
    }

    /// Whether the feed answered recently enough for cached API-key results to be trusted.
    public var isFresh: Bool {
        guard let last = lastAnswer.withLock({ $0 }) else { return false }
        return ContinuousClock.now - last < stalenessBound
    }

    public func run() async throws {
        var failures = 0
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await self.pollOnce() }
                failures = 0
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { break }
                failures += 1
                let delay = Self.backoff(failures: failures)
                logger.warning(
                    "revocation feed unavailable; retrying",
                    metadata: ["in_ms": "\(Int(delay / .milliseconds(1)))"]
                )
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
            }
        }
        if Task.isShuttingDownGracefully, !Task.isCancelled { await leave() }
    }

    /// Tells the auth server this verifier stops, so revocations stop waiting for it at once
    /// instead of until its bound runs out. Best effort, and short: shutdown is not held up.
    func leave() async {
        var request = HTTPClientRequest(url: "\(endpoint)?\(query(after: revocations.cursor, wait: 0))&leaving=true")
        request.headers.add(name: "X-API-Key", value: credential)
        _ = try? await httpClient.execute(request, timeout: .seconds(1))
    }

    /// 0.1 s doubling to 1 s, with ±50% jitter so many verifiers don't reconnect in step; capped
    /// low so that after an outage the follower is back within the 1 s propagation target.
    static func backoff(failures: Int) -> Duration {
        let base = min(0.1 * pow(2, Double(min(failures - 1, 4))), 1)
        return .milliseconds(Int(base * Double.random(in: 0.5...1.5) * 1000))
    }

    /// One long-poll: applies whatever arrives.
    public func pollOnce() async throws {
        // Polls don't wait until the list is complete, so the follower is fresh (and /readyz
        // green) as soon as every page is in.
        let wait = caughtUp.withLock { $0 } ? pollWaitSeconds : 0
        let started = ContinuousClock.now
        var request = HTTPClientRequest(url: "\(endpoint)?\(query(after: revocations.cursor, wait: wait))")
        request.headers.add(name: "X-API-Key", value: credential)
        let response = try await httpClient.execute(request, timeout: .seconds(Int64(waitSeconds) + 10))
        guard response.status == .ok else { throw FeedError.status(Int(response.status.code)) }
        let body = try await response.body.collect(upTo: 16 * 1024 * 1024)
        let answer = try JSONDecoder().decode(Answer.self, from: Data(body.readableBytesView))
        if answer.reset {
            logger.notice("revocation feed cursor too old; starting over")
            // Until the list is whole again, nothing is verified from it: a revoked token in a
            // later page must not pass in the meantime.
            caughtUp.withLock { $0 = false }
            lastAnswer.withLock { $0 = nil }
            revocations.reset()
            apiKeyCache.removeAll()
            await keySource?.feedWasReset()
            limits?.feedWasReset()
        } else {
            revocations.apply(answer.events)
            revocations.advance(to: answer.cursor)
            var rotations: [RevocationEvent] = []
            for event in answer.events {
                switch event.kind {
                case .apiKey: apiKeyCache.evict(keyID: event.subject)
                case .agent: apiKeyCache.evict(agentID: event.subject)
                case .signingKey: rotations.append(event)
                case .token, .client, .limits, .quota: break
                }
            }
            if !rotations.isEmpty { await keySource?.apply(rotations) }
            limits?.feedDelivered(answer.events)
        }
        let complete = !answer.reset && answer.events.count < Self.pageSize
        caughtUp.withLock { $0 = complete }
        if complete || lastAnswer.withLock({ $0 != nil }) {
            // A full page during normal running (a burst of revocations) keeps the follower fresh:
            // its list only grows; the next poll, at once, brings the rest.
            lastAnswer.withLock { $0 = started }
        }
        let answeredAt = ContinuousClock.now
        // Entries of expired tokens can't matter any more; drop them now and then so memory stays flat.
        let pruneDue = lastPrune.withLock { last in
            guard last.map({ answeredAt - $0 >= Self.pruneInterval }) ?? true else { return false }
            last = answeredAt
            return true
        }
        if pruneDue { revocations.prune(now: Date()) }
    }

    /// The poll's query: the cursor (which acknowledges every event up to it), the wait, and who
    /// this verifier is.
    func query(after cursor: Int64, wait: Int) -> String {
        var components = URLComponents()
        components.queryItems = [
            URLQueryItem(name: "after", value: String(cursor)),
            URLQueryItem(name: "wait", value: String(wait)),
            URLQueryItem(name: "verifier", value: instanceID),
            URLQueryItem(name: "verifier_name", value: verifierName),
            URLQueryItem(name: "bound_ms", value: String(boundMilliseconds)),
        ]
        return components.percentEncodedQuery ?? ""
    }

    /// How long a poll may wait: `waitSeconds`, but at most a third of `stalenessBound`, since
    /// freshness is counted from a poll's start and a healthy follower must stay fresh between polls.
    /// Never below a second unless `waitSeconds` is 0: a follower must not spin on the feed.
    var pollWaitSeconds: Int {
        min(waitSeconds, max(1, Int(stalenessBound / .seconds(3))))
    }

    /// `stalenessBound` as the server takes it: rounded up to whole milliseconds, and into the range
    /// it accepts (a shorter bound is reported as the shortest, which only makes the server wait longer).
    var boundMilliseconds: Int {
        let milliseconds = Int((stalenessBound / .milliseconds(1)).rounded(.up))
        return min(max(milliseconds, Verifier.boundRange.lowerBound), Verifier.boundRange.upperBound)
    }

    /// A feed page. Events of a kind this version does not know (a newer auth server's) are
    /// skipped, and the cursor still moves past them; an event of a known kind that does not
    /// decode fails the page, as any malformed answer does.
    struct Answer: Decodable {
        let events: [RevocationEvent]
        let cursor: Int64
        let reset: Bool

        enum CodingKeys: String, CodingKey {
            case events, cursor, reset
        }

        struct KindProbe: Decodable {
            let type: String
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            cursor = try container.decode(Int64.self, forKey: .cursor)
            reset = try container.decode(Bool.self, forKey: .reset)
            let probes = try container.decode([KindProbe].self, forKey: .events)
            var list = try container.nestedUnkeyedContainer(forKey: .events)
            var events: [RevocationEvent] = []
            for probe in probes {
                if RevocationEvent.Kind(rawValue: probe.type) == nil {
                    _ = try list.decode(KindProbe.self)
                } else {
                    events.append(try list.decode(RevocationEvent.self))
                }
            }
            self.events = events
        }
    }

    enum FeedError: Error {
        case status(Int)
    }
}
