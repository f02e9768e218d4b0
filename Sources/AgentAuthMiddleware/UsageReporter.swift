public import AgentAuthCore
public import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
import NIOHTTP1
public import ServiceLifecycle
import Synchronization

/// Reports the requests a resource server counted (`UsageCounter`) to the auth server
/// (`POST /oauth/usage`) every `interval` (1 s by default, the most the contract allows), and
/// once more at graceful shutdown. A batch that fails is sent again as it was, same batch id,
/// until the auth server acknowledges it: the auth server counts each batch id once, so a report
/// whose answer was lost is not counted twice. Later counts wait in the counter behind it.
public final class UsageReporter: Service, Sendable {
    let endpoint: String
    let credential: String
    let httpClient: HTTPClient
    let interval: Duration
    let logger: Logger
    public let counter: UsageCounter
    /// Batches made and not yet acknowledged, oldest first.
    private let pending = Mutex<[UsageReport]>([])

    public init(
        authServer: String,
        credential: String,
        counter: UsageCounter = UsageCounter(),
        httpClient: HTTPClient = RevocationFeedFollower.defaultHTTPClient,
        interval: Duration = .seconds(1),
        logger: Logger = Logger(label: "agentauth.usage")
    ) {
        let base = authServer.hasSuffix("/") ? String(authServer.dropLast()) : authServer
        self.endpoint = base + "/oauth/usage"
        self.credential = credential
        self.counter = counter
        self.httpClient = httpClient
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            do {
                try await report()
            } catch {
                logger.warning("usage report not delivered; it is sent again", metadata: ["reason": "\(error)"])
            }
        }
        // The last counts, after the HTTP server has stopped taking requests; only at a graceful
        // shutdown: a cancelled service stops at once (and its auth server may be stopping too).
        if !Task.isCancelled { try? await report() }
    }

    /// Sends every unacknowledged batch, oldest first, then batches everything counted so far and
    /// sends that; stops at the first that fails (it stays first in line). While a batch waits,
    /// new counts stay in the counter (one entry per credential), so an auth server that is down
    /// for an hour costs no more memory than one that is down for a second.
    public func report() async throws {
        try await sendPending()
        let batches = Self.batches(of: counter.take())
        guard !batches.isEmpty else { return }
        pending.withLock { $0.append(contentsOf: batches) }
        try await sendPending()
    }

    /// Counts cut into reports the auth server accepts: each count at most 10⁹ (a larger one is
    /// split; the server adds repeated pairs up), each report at most `UsageReport.maxCounts`
    /// counts and well inside its 64 KiB body limit (ids can be long: client ids are chosen).
    static func batches(of counts: [UsageReport.Count]) -> [UsageReport] {
        var split: [UsageReport.Count] = []
        for var count in counts {
            while count.requests > maxCount || count.rateLimited > maxCount {
                var part = count
                part.requests = min(count.requests, maxCount)
                part.rateLimited = min(count.rateLimited, maxCount)
                split.append(part)
                count.requests -= part.requests
                count.rateLimited -= part.rateLimited
            }
            split.append(count)
        }
        var batches: [UsageReport] = []
        var current: [UsageReport.Count] = []
        var size = 0
        for count in split {
            // The encoded count: its ids, its numbers and the member names, with room to spare.
            let countSize = count.agentID.utf8.count + count.credentialID.utf8.count + 120
            if !current.isEmpty, current.count >= UsageReport.maxCounts || size + countSize > maxBatchBytes {
                batches.append(UsageReport(batchID: UUID().uuidString, counts: current))
                current = []
                size = 0
            }
            current.append(count)
            size += countSize
        }
        if !current.isEmpty { batches.append(UsageReport(batchID: UUID().uuidString, counts: current)) }
        return batches
    }

    static let maxCount = 1_000_000_000
    static let maxBatchBytes = 48 * 1024

    func sendPending() async throws {
        while let batch = pending.withLock({ $0.first }) {
            do {
                try await send(batch)
            } catch let refused as ReportRefused where refused.isPermanent {
                // Sending it again would be refused again and hold up every later report: it is
                // dropped, and said so.
                logger.error("usage report refused; its counts are dropped", metadata: ["status": "\(refused.status)"])
            }
            pending.withLock { queue in
                if queue.first?.batchID == batch.batchID { queue.removeFirst() }
            }
        }
    }

    /// Batches waiting to be acknowledged.
    public var pendingBatches: Int { pending.withLock { $0.count } }

    func send(_ batch: UsageReport) async throws {
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "X-API-Key", value: credential)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(batch)))
        let response = try await httpClient.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 64 * 1024)
        guard response.status == .ok else { throw ReportRefused(status: Int(response.status.code)) }
    }

    struct ReportRefused: Error, CustomStringConvertible {
        let status: Int
        var description: String { "the auth server answered \(status)" }
        /// A 4xx other than 408 and 429: the report itself is refused, not the moment.
        var isPermanent: Bool { (400..<500).contains(status) && status != 408 && status != 429 }
    }
}
