import AgentAuthCore
import Foundation

/// The first line of `agentauth audit export`: the anchor the exported events continue from
/// (the first one's `previous_hash` is its hash), the cut, and how many event lines follow.
struct AuditExportHeader: Codable {
    static let currentFormat = "agentauth-audit-export/1"

    struct Anchor: Codable {
        var seq: Int64
        var hash: String
    }

    var format: String
    var anchor: Anchor
    /// The time the export was asked for: events older than it, from the start of the chain.
    var before: String
    /// The last exported event (the anchor's own seq when nothing was exported).
    var throughSeq: Int64
    var count: Int64

    enum CodingKeys: String, CodingKey {
        case format, anchor, before, count
        case throughSeq = "through_seq"
    }

    init(anchor: AuditAnchor, before: Date, throughSeq: Int64) {
        format = Self.currentFormat
        self.anchor = Anchor(seq: anchor.seq, hash: anchor.hash)
        self.before = before.formatted(.iso8601)
        self.throughSeq = throughSeq
        count = throughSeq - anchor.seq
    }

    var chainAnchor: AuditAnchor { AuditAnchor(seq: anchor.seq, hash: anchor.hash) }
}
