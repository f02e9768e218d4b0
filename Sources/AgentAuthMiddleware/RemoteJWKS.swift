public import AgentAuthCore
public import AsyncHTTPClient
public import Foundation
import JWTKit
public import Logging
import NIOCore
import NIOHTTP1
public import ServiceLifecycle
import Synchronization

/// The issuer's signing keys for a resource server: found through RFC 8414 metadata
/// (`{authServer}/.well-known/oauth-authorization-server`, whose `issuer` must be the expected
/// one), fetched from `jwks_uri` and cached. Once keys are loaded, an unknown `kid` triggers at
/// most one refetch per cool-down, so a flood of forged kids can't turn into a flood of requests
/// to the issuer; the first load doesn't start the cool-down, so a key rotated in shortly after
/// start-up is fetched at once. A failed fetch is retried after `failureBackoff` and makes
/// verification answer "unavailable" (503), not "invalid token".
///
/// Keys that leave the JWKS are dropped: run it as a `Service` and it refetches every
/// `refreshInterval`; give it to the `RevocationFeedFollower` and it follows rotations as they
/// happen: a key the feed announces is fetched at once (and looked for even inside the
/// cool-down), a retired key stops verifying at the `expires_at` the feed gave it, when it
/// leaves the JWKS, whether or not a refetch has happened since.
public actor RemoteJWKS: VerificationKeySource, FeedFollowingKeySource, Service {
    let metadataURL: String
    let expectedIssuer: String
    let httpClient: HTTPClient
    let coolDown: Duration
    let refreshInterval: Duration
    let logger: Logger
    /// Wall-clock time, to compare with the `expires_at` of retired keys (tests move it).
    let now: @Sendable () -> Date

    private var keys: [String: VerificationKey] = [:]
    /// When retired keys leave the JWKS, as the feed said; applied to what is fetched as well.
    private var retirements: [String: Date] = [:]
    /// Kids the feed announced that the cache does not have yet: not forged, so fetched even
    /// inside the cool-down (at most once per `failureBackoff`).
    private var announced: Set<String> = []
    private var fetchingAnnounced = false
    private var loaded = false
    private var lastUnknownKidRefetch: ContinuousClock.Instant?
    private var lastAnnouncedRefetch: ContinuousClock.Instant?
    private var lastFailure: ContinuousClock.Instant?
    private var inFlight: Task<Void, any Error>?
    private let revision = Atomic<UInt64>(0)
    let failureBackoff: Duration = .seconds(1)
    /// How many fetches, `failureBackoff` apart, look for an announced key: the node that
    /// answers may not have seen the rotation yet.
    static let announcedAttempts = 5

    /// - Parameters:
    ///   - authServer: base URL where the metadata is served.
    ///   - issuer: the `iss` tokens must carry (default: `authServer`).
    ///   - refreshInterval: how often `run()` refetches the keys.
    public init(
        authServer: String,
        issuer: String? = nil,
        httpClient: HTTPClient = IntrospectionClient.defaultHTTPClient,
        coolDown: Duration = .seconds(30),
        refreshInterval: Duration = .seconds(300),
        logger: Logger = Logger(label: "agentauth.jwks"),
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        let base = authServer.hasSuffix("/") ? String(authServer.dropLast()) : authServer
        self.metadataURL = base + "/.well-known/oauth-authorization-server"
        self.expectedIssuer = issuer ?? base
        self.httpClient = httpClient
        self.coolDown = coolDown
        self.refreshInterval = refreshInterval
        self.logger = logger
        self.now = now
    }

    public nonisolated var trustRevision: UInt64 { revision.load(ordering: .acquiring) }

    public func verificationKey(kid: String) async throws -> VerificationKey? {
        if let key = trusted(kid) { return key }
        // Gone from the JWKS by the feed's word: nothing to fetch.
        if let end = retirements[kid], end <= now() { return nil }
        let instant = ContinuousClock.now
        if let lastFailure, instant - lastFailure < failureBackoff { throw RemoteJWKSError.unavailable }
        if loaded {
            if announced.contains(kid) {
                if let last = lastAnnouncedRefetch, instant - last < failureBackoff { return nil }
                lastAnnouncedRefetch = instant
            } else {
                if let last = lastUnknownKidRefetch, instant - last < coolDown { return nil }
                lastUnknownKidRefetch = instant
            }
        }
        try await refresh()
        return trusted(kid)
    }

    /// The cached key, unless it has passed the end the feed gave it.
    private func trusted(_ kid: String) -> VerificationKey? {
        guard let key = keys[kid] else { return nil }
        if let end = key.validUntil, end <= now() {
            keys[kid] = nil
            return nil
        }
        return key
    }

    /// Fetches metadata and keys now (single flight: concurrent callers share one fetch).
    public func refresh() async throws {
        if let inFlight { return try await inFlight.value }
        let task = Task { try await self.fetch() }
        inFlight = task
        defer { inFlight = nil }
        do {
            try await task.value
            loaded = true
            lastFailure = nil
        } catch {
            lastFailure = ContinuousClock.now
            throw error
        }
    }

    /// How many keys are cached, and how many times metadata and keys were fetched (diagnostics).
    public var cachedKeyCount: Int { keys.count }
    public private(set) var fetchCount = 0

    /// Whether `kid` is cached and trusted now (diagnostics; no fetch).
    public func hasKey(_ kid: String) -> Bool { trusted(kid) != nil }

    private func fetch() async throws {
        fetchCount += 1
        let metadata = try await getJSON(metadataURL, as: Metadata.self)
        guard metadata.issuer == expectedIssuer else {
            logger.error("issuer metadata names another issuer", metadata: ["expected": "\(expectedIssuer)", "got": "\(metadata.issuer)"])
            throw RemoteJWKSError.issuerMismatch
        }
        let set = try await getJSON(metadata.jwksURI, as: JWKS.self)
        var fresh: [String: VerificationKey] = [:]
        let collection = JWTKeyCollection()
        for jwk in set.keys {
            guard let kid = jwk.keyIdentifier?.string, let algorithm = Self.algorithm(of: jwk) else { continue }
            do {
                try await collection.add(jwk: jwk)
                let verifier = try await collection.getKey(for: jwk.keyIdentifier, alg: algorithm.rawValue)
                fresh[kid] = VerificationKey(kid: kid, algorithm: algorithm, jwtAlgorithm: verifier)
            } catch {
                logger.warning("skipping an unusable JWK", metadata: ["kid": "\(kid)"])
            }
        }
        // No suspension from here on: what the feed said meanwhile is applied to the new set.
        let now = self.now()
        for (kid, end) in retirements where fresh[kid] != nil { fresh[kid] = fresh[kid]?.trusted(until: end) }
        let ended = keys.values.contains { old in fresh[old.kid].map { $0.validUntil != old.validUntil } ?? true }
        keys = fresh
        announced.subtract(fresh.keys)
        retirements = retirements.filter { fresh[$0.key] != nil || $0.value > now }
        // What a dropped key verified must not be served from a verified-token cache any more.
        if ended { revision.wrappingAdd(1, ordering: .releasing) }
    }

    // MARK: Following the feed

    public func apply(_ events: [RevocationEvent]) async {
        var ended = false
        for event in events where event.kind == .signingKey {
            let kid = event.subject
            if let end = event.expiresAt {
                retirements[kid] = end
                announced.remove(kid)
                if let key = keys[kid], key.validUntil != end {
                    keys[kid] = key.trusted(until: end)
                    ended = true
                }
            } else if retirements[kid] == nil, keys[kid] == nil {
                announced.insert(kid)
            }
        }
        if ended { revision.wrappingAdd(1, ordering: .releasing) }
        // Not awaited: the feed goes on while the keys are fetched. Before the first load there
        // is nothing to refresh; the first token loads everything.
        if loaded, !announced.isEmpty, !fetchingAnnounced {
            fetchingAnnounced = true
            Task { await self.fetchAnnounced() }
        }
    }

    public func feedWasReset() async {
        guard loaded else { return }
        Task { try? await self.refresh() }
    }

    /// Fetches until every announced key is in, a few times at most.
    private func fetchAnnounced() async {
        defer { fetchingAnnounced = false }
        for attempt in 0..<Self.announcedAttempts {
            if attempt > 0 { try? await Task.sleep(for: failureBackoff) }
            guard !announced.isEmpty else { return }
            do {
                try await refresh()
            } catch {
                logger.warning("fetching an announced signing key failed", metadata: ["error": "\(error)"])
            }
        }
    }

    // MARK: Service

    /// Refetches the keys every `refreshInterval` (sooner after a failure) until shutdown, so a
    /// key that left the JWKS is dropped even when no feed event said so.
    public func run() async throws {
        var delay = refreshInterval
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let wait = delay
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
            } catch {
                break
            }
            do {
                try await refresh()
                delay = refreshInterval
            } catch {
                delay = min(refreshInterval, .seconds(10))
                logger.warning("refetching the issuer's keys failed; retrying", metadata: ["error": "\(error)"])
            }
        }
    }

    /// The algorithm a JWK is for: its `alg`, which must agree with its key type, or the key type's only one.
    static func algorithm(of jwk: JWK) -> SigningAlgorithm? {
        let byType: SigningAlgorithm? =
            switch jwk.keyType {
            case .octetKeyPair: .eddsa
            case .ecdsa: .es256
            default: nil
            }
        guard let byType else { return nil }
        if let alg = jwk.algorithm { return alg.rawValue == byType.rawValue ? byType : nil }
        return byType
    }

    struct Metadata: Decodable {
        let issuer: String
        let jwksURI: String

        enum CodingKeys: String, CodingKey {
            case issuer
            case jwksURI = "jwks_uri"
        }
    }

    private func getJSON<T: Decodable>(_ url: String, as type: T.Type) async throws -> T {
        let response = try await httpClient.execute(HTTPClientRequest(url: url), timeout: .seconds(5))
        guard response.status == .ok else { throw RemoteJWKSError.httpStatus(Int(response.status.code)) }
        let body = try await response.body.collect(upTo: 256 * 1024)
        return try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
    }
}

public enum RemoteJWKSError: Error, Hashable, Sendable {
    case issuerMismatch
    case httpStatus(Int)
    /// A recent fetch failed; the next try waits for the back-off.
    case unavailable
}
