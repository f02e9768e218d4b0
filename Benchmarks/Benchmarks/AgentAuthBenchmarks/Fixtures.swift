import AgentAuthCore
import AgentAuthSQLite
import Foundation
import Synchronization

/// What the benchmarks measure against, built once (outside the measurements): an SQLite store
/// with 1,000 API keys, an EdDSA and an ES256 signing key with a token each, and deny-lists.
final class Fixtures: Sendable {
    static let shared = Fixtures()

    struct Signer: Sendable {
        let issuer: TokenIssuer
        let keys: SigningKeyRing
        let verifier: TokenVerifier
        let token: String
        let claims: AccessTokenClaims

        func issue() async throws -> String {
            try await issuer.issue(subject: claims.subject, clientID: claims.clientID, audience: ["agentauth"], scope: claims.scope, lifetime: 1800)
                .token
        }
    }

    struct Prepared: Sendable {
        let apiKeys: APIKeyVerifier
        let apiKey: String
        let signers: [SigningAlgorithm: Signer]
        let denyLists: [Int: RevocationList]

        func signer(_ algorithm: SigningAlgorithm) -> Signer { signers[algorithm]! }
        func denyList(_ size: Int) -> RevocationList { denyLists[size]! }
    }

    struct NotPrepared: Error {}

    private let prepared = Mutex<Prepared?>(nil)

    func require() throws -> Prepared {
        guard let prepared = prepared.withLock({ $0 }) else { throw NotPrepared() }
        return prepared
    }

    func prepare() async throws {
        if prepared.withLock({ $0 }) != nil { return }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agentauth-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let masterKey = MasterKey.generate().key
        var signers: [SigningAlgorithm: Signer] = [:]
        var apiKeyStore: SQLiteStore?
        var apiKey = ""
        for algorithm in SigningAlgorithm.allCases {
            let store = try SQLiteStore(path: directory.appendingPathComponent("\(algorithm.rawValue).sqlite").path)
            let administration = AgentAdministration(store: store)
            guard let (agent, _) = try await administration.initialize(masterKey: masterKey, algorithm: algorithm) else { throw NotPrepared() }
            let ring = SigningKeyRing(store: store, masterKey: masterKey)
            try await ring.reload()
            let issuer = TokenIssuer(issuer: "https://auth.example", keys: ring)
            let issued = try await issuer.issue(
                subject: agent.id,
                clientID: "cli_bench",
                audience: ["agentauth"],
                scope: try ScopeSet(parsing: "conversations:read billing:read"),
                lifetime: 3600
            )
            let verifier = TokenVerifier(
                policy: .init(issuer: "https://auth.example", audiences: ["agentauth"]),
                keys: ring,
                revocations: RevocationList()
            )
            signers[algorithm] = Signer(issuer: issuer, keys: ring, verifier: verifier, token: issued.token, claims: issued.claims)
            if apiKeyStore == nil {
                let keys = APIKeyAdministration(store: store)
                let actor = AuditActor.commandLine(chainKey: AuditChainKey(masterKey: masterKey))
                for index in 0..<1_000 {
                    let key = try await keys.createAPIKey(agentID: agent.id, APIKeyRequest(scopes: ["conversations:read"]), by: actor)
                    if index == 500 { apiKey = key.plaintext }
                }
                apiKeyStore = store
            }
        }
        var denyLists: [Int: RevocationList] = [0: RevocationList()]
        let large = RevocationList()
        let expiry = Date().addingTimeInterval(86_400)
        large.apply(
            (1...1_000_000).map { seq in
                RevocationEvent(seq: Int64(seq), kind: .token, subject: Identifier.make(prefix: "at_"), agentID: nil, at: Date(), expiresAt: expiry)
            }
        )
        denyLists[1_000_000] = large
        let result = Prepared(
            apiKeys: APIKeyVerifier(store: apiKeyStore!),
            apiKey: apiKey,
            signers: signers,
            denyLists: denyLists
        )
        prepared.withLock { $0 = result }
    }
}
