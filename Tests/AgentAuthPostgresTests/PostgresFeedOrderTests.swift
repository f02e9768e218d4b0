import AgentAuthCore
import AgentAuthTesting
import Foundation
import Logging
import PostgresNIO
import Testing

@testable import AgentAuthPostgres

/// The feed's order against concurrent writers: a follower reads `seq > cursor`, so an event must
/// never become visible after a later `seq` was read, or the follower skips it for good (and its
/// cursor, past the event, counts as an acknowledgement of it).
@Suite("PostgreSQL feed order")
struct PostgresFeedOrderTests {
    @Test("an event whose transaction commits after a later one's is still delivered past the cursor read in between", .timeLimit(.minutes(1)))
    func lateCommitDelivered() async throws {
        let url = try await ThrowawayPostgres.newDatabase(prefix: "agentauth_test_")
        let store = try await PostgresStore(url: url, operationTimeout: .seconds(30))
        try await PostgresStoreTests.whileRunning(store) {
            let before = try await store.revocationBounds().latest
            let expiry = Date().addingTimeInterval(600)
            let record = AuditRecord(
                events: [AuditEvent(time: Date(), type: .tokenRevoked)],
                key: AuditChainKey(masterKey: MasterKey.generate().key)
            )
            try await ThrowawayPostgres.withConnection(to: url) { session in
                let logger = Logger(label: "test")
                // Another session holds the audit log's lock, as a concurrent audited write does.
                try await session.query("BEGIN", logger: logger)
                try await session.query("LOCK TABLE audit_events IN EXCLUSIVE MODE", logger: logger)
                let first = Task {
                    try await store.revokeToken(jti: "at_first", agentID: "agt_a", expiresAt: expiry, at: Date(), audit: record)
                }
                // The first revocation has its seq (or waits for its turn) when the sequence moved or
                // after a moment.
                let deadline = ContinuousClock.now + .seconds(2)
                while try await store.revocationBounds().latest == before, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                }
                let second = Task {
                    try await store.revokeToken(jti: "at_second", agentID: "agt_a", expiresAt: expiry, at: Date(), audit: nil)
                }
                try await Task.sleep(for: .milliseconds(500))
                // A follower polls while the first is still open.
                let page = try await store.revocations(after: before, limit: 100)
                try await session.query("COMMIT", logger: logger)
                _ = try await first.value
                _ = try await second.value
                let cursor = page.last?.seq ?? before
                let rest = try await store.revocations(after: cursor, limit: 100)
                let delivered = (page + rest).map(\.subject)
                #expect(Set(delivered) == ["at_first", "at_second"], "delivered to the follower: \(delivered), read first: \(page.map(\.subject))")
            }
        }
    }
}
