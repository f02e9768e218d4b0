import AgentAuthCore
import AgentAuthHTTP
import AgentAuthMiddleware
import AgentAuthTesting
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Testing

/// A resource server following a newer auth server's feed: events of kinds it does not know are
/// passed over (the cursor moves on), the ones it knows still apply, and a known event that is
/// malformed still fails the page.
@Suite("Revocation feed: events of unknown kinds")
struct FeedCompatibilityTests {
    static func withFeed(_ page: String, _ body: (String) async throws -> Void) async throws {
        let router = Router()
        router.get("oauth/revocations") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: page)))
        }
        try await LoopbackServer.run { port, onRunning in
            Application(
                router: router,
                configuration: .init(address: .hostname("127.0.0.1", port: port)),
                onServerRunning: onRunning,
                logger: TestAuthServer.quietLogger
            )
        } _: { port in
            try await body("http://127.0.0.1:\(port)")
        }
    }

    @Test("an unknown kind is skipped, the next event applies, and the cursor passes both")
    func unknownKindSkipped() async throws {
        let expires = Date().addingTimeInterval(600).timeIntervalSince1970
        let page = """
            {"events":[{"seq":7,"type":"something_new","subject":"x","at":1,"extra":{"a":1}},\
            {"seq":8,"type":"token","subject":"at_revoked","agent_id":"agt_a","at":1,"expires_at":\(expires)},\
            {"seq":9,"type":"newer_still","subject":"y","at":1}],"cursor":9,"reset":false}
            """
        try await Self.withFeed(page) { base in
            let feed = RevocationFeedFollower(authServer: base, credential: "unused")
            try await feed.pollOnce()
            #expect(feed.revocations.cursor == 9)
            #expect(feed.revocations.isRevoked(tokenIDs: ["at_revoked"], agentIDs: [], clientID: nil, issuedAt: Date()))
        }
    }

    @Test("a known kind that does not decode fails the page: nothing is applied")
    func malformedKnownKindFails() async throws {
        let page = #"{"events":[{"seq":8,"type":"token","at":1}],"cursor":8,"reset":false}"#
        try await Self.withFeed(page) { base in
            let feed = RevocationFeedFollower(authServer: base, credential: "unused")
            await #expect(throws: (any Error).self) { try await feed.pollOnce() }
            #expect(feed.revocations.cursor == 0)
        }
    }
}
