import AgentAuthCore
import AgentAuthSQLite
import AgentAuthServer
import ArgumentParser
import Foundation

/// `agentauth audit [list] [--agent A] [--type T] [--since 1h]` and `agentauth audit verify`.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read and verify the tamper-evident audit log.",
        subcommands: [List.self, Verify.self],
        defaultSubcommand: List.self
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List audit events, newest first.")
        @OptionGroup var options: ReadOptions
        @Option(name: .customLong("agent"), help: "Only events about this agent.") var agentID: String?
        @Option(help: "Only events of this type (e.g. key.revoked, token.issued, auth failures: api_key.failure).") var type: String?
        @Option(help: "Only events since: a duration (15m, 1h, 2d), ISO 8601 time or Unix seconds.") var since: String?
        @Option(help: "At most this many (1–10000).") var limit = 100

        func run() async throws {
            var sinceDate: Date?
            if let since {
                guard let parsed = TimeSpec.date(since, now: Date()) else {
                    throw CLIError("--since: use a duration (15m, 1h, 2d), ISO 8601 or Unix seconds")
                }
                sinceDate = parsed
            }
            guard (1...10_000).contains(limit) else { throw CLIError("--limit must be between 1 and 10000") }
            let filter = AuditFilter(agentID: agentID, type: type.map(AuditEventType.init(rawValue:)), since: sinceDate, limit: limit)
            let events = try await options.read { try await $0.auditEvents(filter) }
            if options.output.json { return try Output.json(AuditListResponse(events)) }
            Output.table(
                ["SEQ", "TIME", "TYPE", "OUTCOME", "AGENT", "CREDENTIAL", "ADDRESS", "DETAILS"],
                events.map { event in
                    [
                        String(event.seq), Output.date(event.time), event.type.rawValue, event.outcome.rawValue, event.agentID ?? "-",
                        event.credentialID ?? "-",
                        event.clientAddress ?? "-", event.details.keys.sorted().map { "\($0)=\(event.details[$0]!)" }.joined(separator: " "),
                    ]
                }
            )
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the hash chain: exit 1 when an event was edited or deleted.",
            discussion: """
                Record the printed anchor (SEQ:HASH) outside the database now and then; passing it back with \
                --anchor also catches events deleted from the end of the log.
                """
        )
        @OptionGroup var store: StoreOptions
        @OptionGroup var masterKey: MasterKeyOptions
        @Option(help: "An earlier anchor (SEQ:HASH printed by verify) that must still be in the chain.") var anchor: String?

        func run() async throws {
            let key = AuditChainKey(masterKey: try masterKey.load(for: store, create: false))
            let chain = try await store.withStore { try await $0.auditChain() }
            if let problem = AuditChain.verify(chain, key: key) {
                FileHandle.standardError.write(Data("audit log tampered: \(problem)\n".utf8))
                throw ExitCode(1)
            }
            if let anchor {
                let parts = anchor.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, let seq = Int64(parts[0]) else { throw CLIError("--anchor must be SEQ:HASH") }
                guard chain.contains(where: { $0.seq == seq && $0.hash == parts[1] }) else {
                    FileHandle.standardError.write(
                        Data("audit log tampered: anchor \(anchor) is no longer in the chain (events were removed)\n".utf8)
                    )
                    throw ExitCode(1)
                }
            }
            let last = chain.last.map { "\($0.seq):\($0.hash)" } ?? "0:\(AuditChain.genesis)"
            print("audit log intact: \(chain.count) events; anchor \(last)")
        }
    }
}
