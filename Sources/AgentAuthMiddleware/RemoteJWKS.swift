public import AgentAuthCore
public import AsyncHTTPClient
import Foundation
import JWTKit
public import Logging
import NIOCore
import NIOHTTP1

/// The issuer's signing keys for a resource server: found through RFC 8414 metadata
/// (`{authServer}/.well-known/oauth-authorization-server`, whose `issuer` must be the expected
/// one), fetched from `jwks_uri` and cached. Once keys are loaded, an unknown `kid` triggers at
/// most one refetch per cool-down, so a flood of forged kids can't turn into a flood of requests
/// to the issuer; the first load doesn't start the cool-down, so a key rotated in shortly after
/// start-up is fetched at once. A failed fetch is retried after `failureBackoff` and makes
/// verification answer "unavailable" (503), not "invalid token".
public actor RemoteJWKS: VerificationKeySource {
    let metadataURL: String
    let expectedIssuer: String
    let httpClient: HTTPClient
    let coolDown: Duration
    let logger: Logger

    private var keys: [String: VerificationKey] = [:]
    private var loaded = false
    private var lastUnknownKidRefetch: ContinuousClock.Instant?
    private var lastFailure: ContinuousClock.Instant?
    private var inFlight: Task<Void, any Error>?
    let failureBackoff: Duration = .seconds(1)

    /// - Parameters:
    ///   - authServer: base URL where the metadata is served.
    ///   - issuer: the `iss` tokens must carry (default: `authServer`).
    public init(
        authServer: String,
        issuer: String? = nil,
        httpClient: HTTPClient = IntrospectionClient.defaultHTTPClient,
        coolDown: Duration = .seconds(30),
        logger: Logger = Logger(label: "agentauth.jwks")
    ) {
        let base = authServer.hasSuffix("/") ? String(authServer.dropLast()) : authServer
        self.metadataURL = base + "/.well-known/oauth-authorization-server"
        self.expectedIssuer = issuer ?? base
        self.httpClient = httpClient
        self.coolDown = coolDown
        self.logger = logger
    }

    public func verificationKey(kid: String) async throws -> VerificationKey? {
        if let key = keys[kid] { return key }
        let now = ContinuousClock.now
        if let lastFailure, now - lastFailure < failureBackoff { throw RemoteJWKSError.unavailable }
        if loaded {
            if let last = lastUnknownKidRefetch, now - last < coolDown { return nil }
            lastUnknownKidRefetch = now
        }
        try await refresh()
        return keys[kid]
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
        keys = fresh
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
