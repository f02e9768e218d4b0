import AgentAuthCore
import AgentAuthMiddleware
import AgentAuthSQLite
import Foundation
import Testing

/// Signing-key rotation at a resource server (SECURITY-CASES 47, 52, 56): real tokens signed
/// with real keys, sent over HTTP to a resource server that follows the feed.
@Suite("Resource-server middleware: signing-key rotation")
struct SigningKeyRotationTests {
    @Test("52: a retired key stops verifying at the resource server the moment it leaves the JWKS, cached tokens included, before any refetch")
    func retiredKeyLeavesAtItsEnd() async throws {
        try await RotationStack.with(activationDelay: .seconds(5)) { stack in
            let leaked = try await stack.leakedKey()
            let cached = try stack.forge(with: leaked)
            #expect(try await stack.status(cached) == 200, "trusted before the rotation (and now in the verified-token cache)")

            let newKid = try await stack.rotate()
            let publishedUntil = try await stack.publishedUntil(leaked.kid)
            // The feed brings the rotation; the new key is fetched while it is pending.
            let fetched = try await stack.eventually(within: .seconds(3)) { await stack.jwks.hasKey(newKid) }
            #expect(fetched != nil, "the announced key is fetched before it signs")

            stack.clock.advance(publishedUntil.timeIntervalSince(stack.clock.now()) - 2)
            #expect(try await stack.status(cached) == 200, "47: until it leaves the JWKS the retired key verifies")
            #expect(try await stack.status(try stack.forge(with: leaked)) == 200)
            #expect(try await stack.introspectionActive(try stack.forge(with: leaked)))
            let fetches = await stack.jwks.fetchCount

            stack.clock.advance(3)
            #expect(try await !stack.introspectionActive(try stack.forge(with: leaked)), "the auth server refuses it")
            #expect(try await stack.status(try stack.forge(with: leaked)) == 401, "so does the resource server")
            #expect(try await stack.status(cached) == 401, "a token cached before the rotation too, though its exp is a day away")
            #expect(await stack.jwks.fetchCount == fetches, "without a refetch: the feed said when the key leaves")

            let fresh = try await stack.token()
            #expect(RotationStack.kid(of: fresh) == newKid)
            #expect(try await stack.status(fresh) == 200)
        }
    }

    @Test("52 without the feed's rotation events: the scheduled refetch drops a key that left the JWKS, and picks up the new one")
    func scheduledRefetchDropsKeys() async throws {
        try await RotationStack.with(activationDelay: .zero, refreshInterval: .seconds(1), followRotations: false) { stack in
            let leaked = try await stack.leakedKey()
            let cached = try stack.forge(with: leaked)
            #expect(try await stack.status(cached) == 200)
            let newKid = try await stack.rotate()
            let picked = try await stack.eventually(within: .seconds(3)) { await stack.jwks.hasKey(newKid) }
            #expect(picked != nil, "the next scheduled fetch brings the new key")

            stack.clock.advance(try await stack.publishedUntil(leaked.kid).timeIntervalSince(stack.clock.now()) + 1)
            let start = ContinuousClock.now
            let dropped = try await stack.eventually(within: .seconds(3)) { try await stack.status(cached) == 401 }
            #expect(dropped != nil, "dropped at the first refetch after it left the JWKS (\(ContinuousClock.now - start))")
            #expect(try await stack.status(try stack.forge(with: leaked)) == 401)
        }
    }

    @Test("56: a forged kid's cool-down does not hide a key the feed announced (no activation delay)")
    func announcedKidSkipsCoolDown() async throws {
        try await RotationStack.with(activationDelay: .zero) { stack in
            #expect(try await stack.status(try await stack.token()) == 200)
            let attacker = try await SigningKeyMaterial.generate(.eddsa).material
            #expect(try await stack.status(try stack.forge(with: attacker)) == 401, "one forged kid: a refetch, and the 30 s cool-down starts")

            let newKid = try await stack.rotate()
            let fresh = try await stack.token()
            #expect(RotationStack.kid(of: fresh) == newKid, "with no delay the new key signs at once")
            let accepted = try await stack.eventually(within: .seconds(3)) { try await stack.status(fresh) == 200 }
            #expect(accepted != nil, "accepted inside the cool-down, once the feed announced the key")
            #expect(try await stack.status(try stack.forge(with: attacker)) == 401)
        }
    }

    @Test("56: with the activation delay the new key is in the resource server's cache before any token carries it")
    func newKeyFetchedBeforeItSigns() async throws {
        try await RotationStack.with(activationDelay: .seconds(5)) { stack in
            let oldKid = try #require(RotationStack.kid(of: try await stack.token()))
            let attacker = try await SigningKeyMaterial.generate(.eddsa).material
            #expect(try await stack.status(try stack.forge(with: attacker)) == 401)

            let newKid = try await stack.rotate()
            #expect(RotationStack.kid(of: try await stack.token()) == oldKid, "during the delay the previous key signs")
            let fetchedAfter = try await stack.eventually(within: .seconds(4)) { await stack.jwks.hasKey(newKid) }
            #expect(fetchedAfter != nil, "fetched while pending, \(fetchedAfter.map { "\($0)" } ?? "never") after the rotation")

            stack.clock.advance(5)
            let fresh = try await stack.token()
            #expect(RotationStack.kid(of: fresh) == newKid, "after the delay the new key signs")
            #expect(try await stack.status(fresh) == 200, "its first token is accepted")
        }
    }

    @Test("a verifier that starts after a rotation, or whose feed resets, learns the retired key's end from the replayed events")
    func restartAndReset() async throws {
        try await RotationStack.with(activationDelay: .zero) { stack in
            let leaked = try await stack.leakedKey()
            let newKid = try await stack.rotate()
            let publishedUntil = try await stack.publishedUntil(leaked.kid)

            // A verifier started now: its first page replays the rotation.
            let jwks = RemoteJWKS(authServer: stack.auth, now: stack.clock.now)
            let feed = RevocationFeedFollower(authServer: stack.auth, credential: stack.introspectionKey, keySource: jwks, waitSeconds: 1)
            let verifier = TokenVerifier(
                policy: .init(issuer: stack.auth, audiences: ["agentauth"]),
                keys: jwks,
                revocations: feed.revocations,
                cache: VerifiedTokenCache(),
                now: stack.clock.now
            )
            try await feed.pollOnce()
            #expect(feed.hasSynced)
            _ = try await verifier.verify(try stack.forge(with: leaked))
            #expect(await jwks.hasKey(newKid), "the first load has the new key")

            // The feed resets (a cursor it never issued): everything is replayed from the start.
            feed.revocations.apply([RevocationEvent(seq: 1_000_000, kind: .token, subject: "at_x", agentID: nil, at: Date())])
            try await feed.pollOnce()
            #expect(!feed.hasSynced, "reset")
            try await feed.pollOnce()
            #expect(feed.hasSynced, "replayed")

            // Whatever the reset fetched is in; from here on no fetch is needed.
            try await jwks.refresh()
            let fetches = await jwks.fetchCount
            stack.clock.advance(publishedUntil.timeIntervalSince(stack.clock.now()) + 1)
            await #expect(throws: TokenRejection.unknownKey) { try await verifier.verify(try stack.forge(with: leaked)) }
            #expect(await jwks.fetchCount == fetches, "refused by the replayed expires_at, not by a refetch")
            #expect(try await verifier.verify(try await stack.token()).subject.hasPrefix("agt_"), "the new key verifies")
        }
    }
}
