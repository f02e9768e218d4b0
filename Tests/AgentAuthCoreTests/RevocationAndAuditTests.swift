import AgentAuthCore
import AgentAuthSQLite
import Foundation
import JWTKit
import Synchronization
import Testing

/// A key source over one key, for verifier tests.
struct SingleKey: VerificationKeySource {
    let key: SigningKeyMaterial
    func verificationKey(kid: String) async throws -> VerificationKey? { kid == key.kid ? key.verificationKey : nil }
}

@Suite("Deny-list")
struct DenyListTests {
    @Test("with 100,000 revoked jtis, valid tokens still verify and a revoked one is refused")
    func largeDenyList() async throws {
        let key = try await SigningKeyMaterial.generate(.eddsa).material
        let list = RevocationList()
        let now = Date()
        list.apply(
            (1...100_000).map {
                RevocationEvent(
                    seq: Int64($0),
                    kind: .token,
                    subject: "at_revoked_\($0)",
                    agentID: "agt_x",
                    at: now,
                    expiresAt: now.addingTimeInterval(600)
                )
            }
        )
        #expect(list.revokedTokenCount == 100_000)
        #expect(list.cursor == 100_000)
        let verifier = TokenVerifier(policy: .init(issuer: "https://issuer.test", audiences: ["api"]), keys: SingleKey(key: key), revocations: list)
        func token(_ jti: String, agent: String = "agt_a") throws -> String {
            let claims = AccessTokenClaims(
                issuer: "https://issuer.test",
                subject: agent,
                clientID: "c",
                audience: ["api"],
                expiresAt: now.addingTimeInterval(300),
                issuedAt: now.addingTimeInterval(-1),
                notBefore: nil,
                tokenID: jti,
                scope: try ScopeSet(parsing: "a")
            )
            let header = Base64URL.encode(Data(#"{"alg":"EdDSA","kid":"\#(key.kid)","typ":"at+jwt"}"#.utf8))
            let payload = Base64URL.encode(try JSONEncoder().encode(claims))
            return header + "." + payload + "." + Base64URL.encode(try key.jwtAlgorithm.sign(Array((header + "." + payload).utf8)))
        }
        for index in 0..<200 { #expect(try await verifier.verify(try token("at_valid_\(index)")).tokenID == "at_valid_\(index)") }
        await #expect(throws: TokenRejection.revoked) { try await verifier.verify(try token("at_revoked_77777")) }
        list.apply([RevocationEvent(seq: 100_001, kind: .agent, subject: "agt_a", agentID: "agt_a", at: now)])
        await #expect(throws: TokenRejection.revoked) { try await verifier.verify(try token("at_valid_1")) }
        #expect(try await verifier.verify(try token("at_valid_1", agent: "agt_b")).subject == "agt_b")
        list.prune(now: now.addingTimeInterval(700))
        #expect(list.revokedTokenCount == 0, "expired entries are pruned")
    }
}

@Suite("Audit chain and log")
struct AuditTests {
    /// `count` events, the first of them the initialisation record every chain begins with
    /// (unless `continuing` an existing chain).
    static func events(_ count: Int, continuing: Bool = false) -> [AuditEvent] {
        (0..<count).map { index in
            AuditEvent(
                time: Date(),
                type: index == 0 && !continuing ? AuditChain.initializationType : .keyCreated,
                agentID: "agt_\(index)",
                credentialID: "key_\(index)",
                details: ["scope": "a b"]
            )
        }
    }

    static let key = AuditChainKey(masterKey: MasterKey.generate().key)

    @Test("a linked chain verifies; editing any field or removing a row is detected")
    func chain() {
        let key = Self.key
        let chain = AuditChain.link(Self.events(5), after: nil, key: key)
        #expect(AuditChain.verify(chain, key: Self.key) == nil)
        #expect(chain.map(\.seq) == [1, 2, 3, 4, 5])
        var edited = chain
        edited[2].details["scope"] = "admin"
        #expect(AuditChain.verify(edited, key: Self.key) == .edited(seq: 3))
        var retyped = chain
        retyped[1].outcome = .failure
        #expect(AuditChain.verify(retyped, key: Self.key) == .edited(seq: 2))
        var removed = chain
        removed.remove(at: 3)
        #expect(AuditChain.verify(removed, key: Self.key) == .broken(seq: 5))
        var rehashed = chain
        rehashed[2].agentID = "agt_forged"
        rehashed[2].hash = AuditChain.digest(rehashed[2], key: key)
        #expect(AuditChain.verify(rehashed, key: Self.key) == .broken(seq: 4), "recomputing one hash still breaks the next link")
        let continued = AuditChain.link(Self.events(2, continuing: true), after: (chain.last!.seq, chain.last!.hash), key: key)
        #expect(AuditChain.verify(chain + continued, key: Self.key) == nil)
        // Without the master key, a forger can't rebuild the chain: a whole chain recomputed with
        // another key (as a script with database access would) does not verify.
        let forged = AuditChain.link(Self.events(5), after: nil, key: AuditChainKey(masterKey: MasterKey.generate().key))
        #expect(AuditChain.verify(forged, key: Self.key) == .edited(seq: 1))
        #expect(AuditChain.verify(Array(chain.dropFirst()), key: Self.key) == .missingStart, "the start deleted")
        #expect(AuditChain.verify([], key: Self.key) == .missingStart, "the whole log deleted")
        let headless = AuditChain.link(Self.events(3, continuing: true), after: nil, key: key)
        #expect(AuditChain.verify(headless, key: Self.key) == .missingStart, "a chain rebuilt without its initialisation record")
    }

    @Test("the log batches events, aggregates failures per credential and minute, and flushes everything at the end")
    func log() async throws {
        try await withTemporaryStore { store in
            let clock = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
            let log = AuditLog(store: store, key: Self.key, now: { clock.withLock { $0 } })
            for event in Self.events(3) { log.record(event) }
            for _ in 0..<500 {
                log.recordFailure(type: .apiKeyFailure, credentialID: nil, clientAddress: "10.0.0.1", reason: "unknown credential")
            }
            log.recordFailure(type: .clientAuthenticationFailure, credentialID: "cli_x", clientAddress: "10.0.0.2", reason: "invalid_client")
            #expect(try await store.auditChain().isEmpty, "recording never writes")
            try await log.flush()
            #expect(try await store.auditChain().count == 3, "failures of the current minute wait for it to end")
            clock.withLock { $0 = $0.addingTimeInterval(61) }
            try await log.flush()
            let chain = try await store.auditChain()
            #expect(chain.count == 5)
            let aggregate = try #require(chain.first { $0.type == .apiKeyFailure })
            #expect(aggregate.details["count"] == "500")
            #expect(aggregate.outcome == .failure)
            log.recordFailure(type: .apiKeyFailure, credentialID: nil, clientAddress: "10.0.0.1", reason: "unknown credential")
            try await log.flush(final: true)
            #expect(try await store.auditChain().count == 6, "a final flush writes the open minute too")
            #expect(AuditChain.verify(try await store.auditChain(), key: Self.key) == nil)
        }
    }

    @Test("a full queue counts what it drops and says so in the log")
    func boundedQueue() async throws {
        try await withTemporaryStore { store in
            let log = AuditLog(store: store, key: Self.key, capacity: 10)
            for event in Self.events(25) { log.record(event) }
            try await log.flush(final: true)
            let chain = try await store.auditChain()
            #expect(chain.count == 11)
            #expect(chain.last?.type == .auditDropped)
            #expect(chain.last?.details["count"] == "15")
        }
    }

    @Test("durations, ISO 8601 and Unix seconds are accepted as since")
    func timeSpec() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(TimeSpec.date("1h", now: now) == now.addingTimeInterval(-3600))
        #expect(TimeSpec.date("15m", now: now) == now.addingTimeInterval(-900))
        #expect(TimeSpec.date("2d", now: now) == now.addingTimeInterval(-172_800))
        #expect(TimeSpec.date("1700000000", now: now) == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(TimeSpec.date("2026-01-01T00:00:00Z", now: now) != nil)
        #expect(TimeSpec.date("yesterday", now: now) == nil)
        #expect(TimeSpec.date("-1h", now: now) == nil)
    }
}
