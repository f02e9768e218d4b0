import AgentAuthCore
import AgentAuthSQLite
import AgentAuthServer
import ArgumentParser
import Foundation

/// `agentauth audit [list] [--agent A] [--type T] [--since 1h]`, `agentauth audit verify`, and
/// `agentauth audit export --before T [--output FILE [--delete]]` with `verify-export FILE`.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read and verify the tamper-evident audit log.",
        subcommands: [List.self, Verify.self, Export.self, VerifyExport.self],
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
            let (chain, stored) = try await store.withStore { try await Self.readChain($0) }
            if let problem = AuditChain.verify(chain, anchor: stored, key: key) {
                FileHandle.standardError.write(Data("audit log tampered: \(problem)\n".utf8))
                throw ExitCode(1)
            }
            if let anchor {
                guard let expected = AuditAnchor(anchor) else { throw CLIError("--anchor must be SEQ:HASH") }
                if let stored, expected.seq == stored.seq, expected.hash != stored.hash {
                    FileHandle.standardError.write(Data("audit log tampered: anchor \(anchor) does not match the chain's anchor\n".utf8))
                    throw ExitCode(1)
                } else if let stored, expected.seq <= stored.seq {
                    // Removed by a recorded removal (retention or `audit export --delete`): its export holds it.
                    FileHandle.standardError.write(
                        Data("note: anchor \(expected.seq) is before the chain's start (\(stored.seq)); check it against the export\n".utf8)
                    )
                } else if !chain.contains(where: { $0.seq == expected.seq && $0.hash == expected.hash }) {
                    FileHandle.standardError.write(
                        Data("audit log tampered: anchor \(anchor) is no longer in the chain (events were removed)\n".utf8)
                    )
                    throw ExitCode(1)
                }
            }
            let last = chain.last.map { AuditAnchor(seq: $0.seq, hash: $0.hash) } ?? stored ?? .genesis
            let start = stored.map { " since anchor \($0)" } ?? ""
            print("audit log intact: \(chain.count) events\(start); anchor \(last)")
        }

        /// The kept chain and the anchor it starts from, read consistently: a removal between the
        /// two reads (a server's retention) shows as a changed anchor, and the reads are repeated.
        static func readChain(_ store: any AgentAuthStore) async throws -> ([AuditEvent], AuditAnchor?) {
            var anchor = try await store.auditAnchor()
            for _ in 0..<5 {
                let chain = try await store.auditChain()
                let after = try await store.auditAnchor()
                if after == anchor { return (chain, anchor) }
                anchor = after
            }
            throw CLIError("the audit log kept changing its start while being read; run again")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the oldest events, up to a time, as JSON lines; with --delete, then remove exactly those.",
            discussion: """
                The first line names the anchor the events continue from and how many follow; each next line is \
                one event, as `audit list --json` shows it, with its hashes and time_ms. The cut is fixed once, \
                as a sequence number, before anything is read: events written meanwhile are neither exported \
                nor removed. With --delete (which needs --output and the master key) the events are removed \
                only after the file is written and synced, and an audit.pruned event records the new anchor.
                """
        )
        @OptionGroup var store: StoreOptions
        @OptionGroup var masterKey: MasterKeyOptions
        @Option(help: "Export the events older than this: a duration back from now (90d), ISO 8601 time or Unix seconds.")
        var before: String
        @Option(help: "Write to this new file (refused if it exists); default: standard output.") var output: String?
        @Flag(help: "Then remove the exported events from the database (needs --output and the master key).") var delete = false

        static let pageSize = 1_000

        func validate() throws {
            if delete, output == nil { throw ValidationError("--delete needs --output: the events are removed only once they are in a file") }
        }

        func run() async throws {
            guard let cutTime = TimeSpec.date(before, now: Date()) else {
                throw CLIError("--before: use a duration (15m, 1h, 90d), ISO 8601 or Unix seconds")
            }
            // Resolved before anything is written, so a missing key can't leave an export undeleted.
            let key = delete ? try masterKey.load(for: store, create: false) : nil
            let sink = try output.map(Self.createFile) ?? FileHandle.standardOutput
            try await store.withStore { opened in
                if let key { try await masterKey.check(key, against: opened, of: store) }
                let anchor = try await opened.auditAnchor() ?? .genesis
                let cut = max(try await opened.auditCut(before: cutTime) ?? anchor.seq, anchor.seq)
                try Self.write(AuditExportHeader(anchor: anchor, before: cutTime, throughSeq: cut), to: sink)
                var last = anchor.seq
                while last < cut {
                    let page = try await opened.auditChain(after: last, limit: Self.pageSize).prefix { $0.seq <= cut }
                    guard let first = page.first, first.seq == last + 1 else {
                        throw CLIError("events were removed while exporting (another export, or serve --audit-retention); run again")
                    }
                    for event in page { try Self.write(AuditExportLine(event), to: sink) }
                    last = page.last!.seq
                }
                try sink.synchronize()
                if output != nil { try sink.close() }
                let exported = cut - anchor.seq
                var summary = "exported \(exported) events (through seq \(cut), from anchor \(anchor))"
                if let key, exported > 0 {
                    let removed = try await AuditRetention(store: opened, key: AuditChainKey(masterKey: key)).prune(
                        through: cut,
                        details: ["via": "cli", "before": cutTime.formatted(.iso8601)]
                    )
                    summary += "; removed \(removed)"
                }
                FileHandle.standardError.write(Data((summary + "\n").utf8))
            }
        }

        static func createFile(_ path: String) throws -> FileHandle {
            guard !FileManager.default.fileExists(atPath: path) else { throw CLIError("\(path) exists; export to a new file") }
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
                let handle = FileHandle(forWritingAtPath: path)
            else { throw CLIError("cannot create \(path)") }
            return handle
        }

        static func write(_ value: some Encodable, to sink: FileHandle) throws {
            try sink.write(contentsOf: try Output.encoder.encode(value) + Data("\n".utf8))
        }
    }

    struct VerifyExport: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-export",
            abstract: "Check a file written by `audit export`: every event intact and linked, from its anchor on."
        )
        @OptionGroup var store: StoreOptions
        @OptionGroup var masterKey: MasterKeyOptions
        @Argument(help: "The exported file.") var file: String

        func run() async throws {
            let key = AuditChainKey(masterKey: try masterKey.load(for: store, create: false))
            guard let contents = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
            let lines = contents.split(separator: UInt8(ascii: "\n"))
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            guard let first = lines.first, let header = try? decoder.decode(AuditExportHeader.self, from: Data(first)),
                header.format == AuditExportHeader.currentFormat
            else { throw CLIError("\(file) does not begin with an \(AuditExportHeader.currentFormat) header") }
            var events: [AuditEvent] = []
            for (index, line) in lines.dropFirst().enumerated() {
                do {
                    events.append(try decoder.decode(AuditExportLine.self, from: Data(line)).event)
                } catch {
                    throw CLIError("\(file): line \(index + 2) is not an exported event")
                }
            }
            if let problem = AuditChain.verifyLinks(events, from: header.chainAnchor, key: key) {
                FileHandle.standardError.write(Data("export tampered: \(problem)\n".utf8))
                throw ExitCode(1)
            }
            guard Int64(events.count) == header.count, (events.last?.seq ?? header.anchor.seq) == header.throughSeq else {
                FileHandle.standardError.write(Data("export incomplete: \(events.count) of \(header.count) events\n".utf8))
                throw ExitCode(1)
            }
            print("export intact: \(events.count) events from anchor \(header.chainAnchor) through seq \(header.throughSeq)")
        }
    }
}
