import AgentAuthCore
import AgentAuthSQLite
import AgentAuthStoreConformance
import AgentAuthTesting
import Foundation
import Synchronization
import Testing

/// The activation delay: a rotated-in key is published at once and signs only after the delay,
/// the key it replaces signing meanwhile; and what a verifier caches never outlives its key.
@Suite("Signing-key schedule")
struct SigningKeyScheduleTests {
    final class Clock: Sendable {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        private let offset = Mutex<TimeInterval>(0)
        var now: @Sendable () -> Date { { self.start.addingTimeInterval(self.offset.withLock { $0 }) } }
        func advance(_ seconds: TimeInterval) { offset.withLock { $0 += seconds } }
    }

    static func withRing(_ body: (SigningKeyRing, SQLiteStore, Clock) async throws -> Void) async throws {
        try await withTemporaryStore { store in
            let clock = Clock()
            let masterKey = MasterKey.generate().key
            _ = try await AgentAdministration(store: store, now: clock.now).initialize(masterKey: masterKey)
            try await body(SigningKeyRing(store: store, masterKey: masterKey, now: clock.now), store, clock)
        }
    }

    /// The phases of the keys named, in that order (`nil` for a kid the schedule lacks).
    static func phases(of kids: [String], in schedule: SigningKeySchedule, at date: Date) -> [SigningKeySchedule.Phase?] {
        kids.map { kid in schedule.keys.first { $0.kid == kid }.map { schedule.phase(of: $0, at: date) } }
    }

    @Test("a rotated-in key is published at once and signs after the delay; the retired key's publication counts from the hand-over")
    func activationDelay() async throws {
        try await Self.withRing { ring, _, clock in
            let first = try await ring.activeKey().kid
            let rotated = try await ring.rotate(to: .es256, retiredKeyLifetime: 660, activationDelay: 5, by: .test)
            #expect(try await ring.activeKey().kid == first, "the previous key signs during the delay")
            #expect(Set(try await ring.publishedJWKs().compactMap { $0["kid"] }) == [first, rotated.kid], "both are in the JWKS at once")
            #expect(try await ring.verificationKey(kid: rotated.kid) != nil, "the pending key verifies")
            let retired = try #require(try await ring.records().first { $0.kid == first })
            #expect(retired.status == .retired)
            #expect(retired.retiredAt == clock.start.addingTimeInterval(5), "it stops signing after the delay")
            #expect(retired.publishedUntil == clock.start.addingTimeInterval(665), "and stays published for its lifetime after that")

            let schedule = SigningKeySchedule(try await ring.records())
            #expect(schedule.phase(of: rotated, at: clock.now()) == .pending)
            #expect(schedule.activation(of: rotated) == clock.start.addingTimeInterval(5))
            #expect(schedule.phase(of: retired, at: clock.now()) == .active)

            clock.advance(5)
            #expect(try await ring.activeKey().kid == rotated.kid, "after the delay the new key signs, without a reload")
            #expect(schedule.phase(of: rotated, at: clock.now()) == .active)
            #expect(schedule.phase(of: retired, at: clock.now()) == .retired)
            clock.advance(659)
            #expect(try await ring.verificationKey(kid: first) != nil)
            clock.advance(1)
            #expect(try await ring.verificationKey(kid: first) == nil, "refused once it leaves the JWKS")
        }
    }

    @Test("two rotations within the delay hand over in order, each key signing in its turn")
    func rotationsWithinTheDelay() async throws {
        try await Self.withRing { ring, _, clock in
            let a = try await ring.activeKey().kid
            let b = try await ring.rotate(to: .eddsa, retiredKeyLifetime: 60, activationDelay: 5, by: .test).kid
            clock.advance(2)
            let c = try await ring.rotate(to: .eddsa, retiredKeyLifetime: 60, activationDelay: 5, by: .test).kid
            let schedule = SigningKeySchedule(try await ring.records())
            let phases = { (date: Date) in Self.phases(of: [a, b, c], in: schedule, at: date) }
            #expect(phases(clock.now()) == [.active, .pending, .pending])
            #expect(try await ring.activeKey().kid == a)
            clock.advance(3)
            #expect(try await ring.activeKey().kid == b, "b signs from a's retirement")
            #expect(phases(clock.now()) == [.retired, .active, .pending])
            clock.advance(2)
            #expect(try await ring.activeKey().kid == c, "c from b's")
            #expect(phases(clock.now()) == [.retired, .retired, .active])
            let records = try await ring.records()
            #expect(
                records.first { $0.kid == b }?.publishedUntil == clock.now().addingTimeInterval(60),
                "b stays published 60 s after it stopped signing"
            )
        }
    }

    @Test("a rotation without delay during another's delay signs at once: the latest rotation decides")
    func immediateRotationDuringADelay() async throws {
        try await Self.withRing { ring, _, clock in
            let a = try await ring.activeKey().kid
            let b = try await ring.rotate(to: .eddsa, retiredKeyLifetime: 60, activationDelay: 5, by: .test).kid
            clock.advance(1)
            let c = try await ring.rotate(to: .eddsa, retiredKeyLifetime: 60, activationDelay: 0, by: .test).kid
            #expect(try await ring.activeKey().kid == c, "neither a (scheduled to sign 4 s more) nor b (never signs)")
            let schedule = SigningKeySchedule(try await ring.records())
            #expect(Self.phases(of: [a, b, c], in: schedule, at: clock.now()) == [.retired, .retired, .active])
            #expect(Set(try await ring.publishedJWKs().compactMap { $0["kid"] }) == [a, b, c], "all stay published for their tokens")
        }
    }

    @Test("a cached token is kept no longer than its key is trusted: a leaked key's long-lived token dies when the key leaves the JWKS")
    func cacheEndsWithTheKey() async throws {
        try await Self.withRing { ring, _, clock in
            let issuer = TokenIssuer(issuer: "https://auth.example", keys: ring, now: clock.now)
            let cache = VerifiedTokenCache()
            let verifier = TokenVerifier(
                policy: .init(issuer: "https://auth.example", audiences: ["agentauth"]),
                keys: ring,
                cache: cache,
                now: clock.now
            )
            let scope = try ScopeSet(parsing: "conversations:read")
            // What a thief with the signing key could mint: a token for a day.
            let leaked = try await issuer.issue(subject: "agt_thief", clientID: "cli_x", audience: ["agentauth"], scope: scope, lifetime: 86_400)
            _ = try await verifier.verify(leaked.token)
            #expect(cache.claims(for: leaked.token, now: clock.now(), revision: ring.trustRevision) != nil, "cached until its exp")

            try await ring.rotate(to: .eddsa, retiredKeyLifetime: 60, activationDelay: 0, by: .test)
            #expect(cache.claims(for: leaked.token, now: clock.now(), revision: ring.trustRevision) == nil, "the rotation invalidates the entry")
            _ = try await verifier.verify(leaked.token)
            #expect(cache.claims(for: leaked.token, now: clock.now(), revision: ring.trustRevision) != nil, "verified again, cached again")
            clock.advance(59)
            _ = try await verifier.verify(leaked.token)
            clock.advance(1)
            #expect(cache.claims(for: leaked.token, now: clock.now(), revision: ring.trustRevision) == nil, "the entry ends with the key")
            await #expect(throws: TokenRejection.unknownKey) { try await verifier.verify(leaked.token) }
        }
    }
}
