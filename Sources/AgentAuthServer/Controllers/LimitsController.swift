import AgentAuthCore
import AgentAuthHTTP
import Foundation
import Hummingbird
import Logging

/// The two endpoints verifiers use for rate limits and quotas, authorised like the revocation
/// feed: `GET /oauth/limits` (the tiers, who is assigned what, the quotas used up; refetched when
/// the feed says limits changed) and `POST /oauth/usage` (a batch of request counts; counted once
/// per batch id, so a retried report is not counted twice).
struct LimitsController {
    let callers: CallerAuthorization
    let store: any AgentAuthStore
    let owners: CredentialOwners
    let audit: AuditLog
    let now: @Sendable () -> Date

    var endpoints: RouteCollection<AgentAuthRequestContext> {
        let routes = RouteCollection(context: AgentAuthRequestContext.self)
        routes.get("limits", use: limits)
        return routes.postOnly("usage", use: usage)
    }

    func limits(_ request: Request, context: AgentAuthRequestContext) async throws -> Response {
        try await callers.authorizeVerifier(request, form: try FormBody(parsing: []), context: context)
        var response = try context.responseEncoder.encode(try await Self.snapshot(of: store, now: now()), from: request, context: context)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// The store's limits with the feed position they reflect, read first: the snapshot is at
    /// least as new as its cursor.
    static func snapshot(of store: any AgentAuthStore, now: Date) async throws -> LimitsSnapshot {
        let cursor = try await store.revocationBounds().latest
        var snapshot = try await store.limitsSnapshot(now: now)
        snapshot.cursor = cursor
        return snapshot
    }

    func usage(_ request: Request, context: AgentAuthRequestContext) async throws -> Response {
        let caller = try await callers.authorizeVerifier(request, form: try FormBody(parsing: []), context: context)
        var report = try await JSONBody.decode(UsageReport.self, from: request, context: context)
        try Self.validate(report)
        // Counts for a credential that is not the named agent's (or does not exist) are dropped,
        // not refused: the rest of the batch is still counted, and the verifier does not resend it.
        var owned: [UsageReport.Count] = []
        for count in report.counts where try await owners.owns(agentID: count.agentID, credentialID: count.credentialID) {
            owned.append(count)
        }
        if owned.count < report.counts.count {
            context.logger.warning("usage counts for unknown credentials dropped", metadata: ["dropped": "\(report.counts.count - owned.count)"])
        }
        report.counts = owned
        let at = now()
        guard let exhausted = try await store.recordUsage(report, at: at) else {
            return try context.responseEncoder.encode(UsageAnswer(counted: false), from: request, context: context)
        }
        let reporter = caller.limitKey
        for exhaustion in exhausted {
            audit.record(
                AuditEvent(
                    time: at,
                    type: .quotaExhausted,
                    agentID: exhaustion.agentID,
                    credentialID: exhaustion.subject == exhaustion.agentID ? nil : exhaustion.subject,
                    clientAddress: context.clientAddress,
                    requestID: context.id,
                    details: [
                        "subject": exhaustion.subject,
                        "quota": String(exhaustion.quota),
                        "used": String(exhaustion.used),
                        "period_start": ISO8601DateFormatter().string(from: exhaustion.periodStart),
                        "until": ISO8601DateFormatter().string(from: exhaustion.until),
                        "reported_by": reporter,
                    ]
                )
            )
        }
        return try context.responseEncoder.encode(UsageAnswer(counted: true), from: request, context: context)
    }

    /// Bounded and well-formed: a batch id of at most 64 printable characters, at most
    /// `UsageReport.maxCounts` counts of non-negative numbers for ids of at most 200 characters.
    static func validate(_ report: UsageReport) throws {
        guard (1...UsageReport.maxBatchIDLength).contains(report.batchID.utf8.count),
            report.batchID.utf8.allSatisfy({ (0x21...0x7e).contains($0) })
        else {
            throw OAuthError.invalidRequest("batch_id must be 1 to \(UsageReport.maxBatchIDLength) printable ASCII characters")
        }
        guard report.counts.count <= UsageReport.maxCounts else {
            throw OAuthError.invalidRequest("at most \(UsageReport.maxCounts) counts per report")
        }
        for count in report.counts {
            guard (1...200).contains(count.agentID.utf8.count), (1...200).contains(count.credentialID.utf8.count) else {
                throw OAuthError.invalidRequest("agent_id and credential_id must be 1 to 200 characters")
            }
            guard (0...1_000_000_000).contains(count.requests), (0...1_000_000_000).contains(count.rateLimited) else {
                throw OAuthError.invalidRequest("requests and rate_limited must be between 0 and 1000000000")
            }
        }
    }

    struct UsageAnswer: ResponseEncodable {
        /// `false` when this batch had been counted before.
        let counted: Bool
    }
}
