import AgentAuthCore
import ArgumentParser
import Foundation
import GRDB

/// Fills an initialised AgentAuth SQLite database for the scale runs of `scripts/bench-http.sh`:
/// API keys (real keys of the production format, stored as the server stores them: SHA-256 of the
/// whole key, looked up through the unique `key_hash` index) and revoked token ids (deny-list
/// entries that expire in a day). One transaction each, so a million rows take seconds, not the
/// hours a million admin calls would.
@main
struct BenchSeed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-seed",
        abstract: "Bulk-inserts API keys and revoked token ids into an AgentAuth SQLite database."
    )

    @Option(help: "Path of the SQLite database (initialised by `agentauth init`).")
    var database: String

    @Option(help: "How many API keys to add, spread over --agents agents.")
    var apiKeys = 0

    @Option(help: "How many agents the seeded keys belong to.")
    var agents = 1_000

    @Option(help: "How many revoked token ids to add.")
    var revokedTokens = 0

    func run() async throws {
        guard apiKeys >= 0, revokedTokens >= 0, agents > 0 else { throw ValidationError("counts must not be negative, agents positive") }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: database, configuration: configuration)
        let started = ContinuousClock.now
        let now = Date().timeIntervalSince1970
        if apiKeys > 0 {
            try await queue.write { db in
                var agentIDs: [String] = []
                let agentStatement = try db.makeStatement(
                    sql: "INSERT INTO agents (id, name, status, created_at) VALUES (?, ?, 'active', ?)"
                )
                for index in 0..<agents {
                    let id = Identifier.make(prefix: Identifier.agentPrefix)
                    try agentStatement.execute(arguments: [id, "seeded-\(index)", now])
                    agentIDs.append(id)
                }
                // No tier, like a key made without one: a tier would put each seeded key into the limits
                // snapshot every verifier fetches, which is not what these runs measure.
                let keyStatement = try db.makeStatement(
                    sql: """
                        INSERT INTO api_keys (id, agent_id, key_hash, display, scopes, rate_limit, status, created_at)
                        VALUES (?, ?, ?, ?, 'conversations:read', NULL, 'active', ?)
                        """
                )
                for index in 0..<apiKeys {
                    let key = SecretFormat.apiKey.generate()
                    try keyStatement.execute(arguments: [
                        Identifier.make(prefix: Identifier.apiKeyPrefix), agentIDs[index % agentIDs.count],
                        SecretFormat.storageHash(key), SecretFormat.apiKey.display(key), now,
                    ])
                }
            }
        }
        if revokedTokens > 0 {
            try await queue.write { db in
                let statement = try db.makeStatement(
                    sql: "INSERT INTO revocation_events (kind, subject, agent_id, at, expires_at) VALUES ('token', ?, ?, ?, ?)"
                )
                let agentID = Identifier.make(prefix: Identifier.agentPrefix)
                for _ in 0..<revokedTokens {
                    try statement.execute(arguments: [Identifier.make(prefix: "at_"), agentID, now, now + 86_400])
                }
            }
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(
            "seeded \(apiKeys) API keys (\(apiKeys > 0 ? agents : 0) agents) and \(revokedTokens) revoked token ids in \(String(format: "%.1f", seconds)) s"
        )
    }
}
