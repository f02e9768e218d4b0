/// Where the stored chain starts once its oldest events were removed (`agentauth serve
/// --audit-retention`, `agentauth audit export --delete`): the sequence number and hash of the
/// last removed event. The first event kept links to it as it linked to the removed one, so
/// what stays verifies from here instead of from the genesis value.
public struct AuditAnchor: Hashable, Sendable, CustomStringConvertible {
    public var seq: Int64
    public var hash: String

    public init(seq: Int64, hash: String) {
        self.seq = seq
        self.hash = hash
    }

    /// Where a chain nothing was ever removed from starts.
    public static let genesis = AuditAnchor(seq: 0, hash: AuditChain.genesis)

    /// `SEQ:HASH`, as `agentauth audit verify` prints anchors and stores keep theirs.
    public var description: String { "\(seq):\(hash)" }

    /// Reads `SEQ:HASH` (`nil` when malformed).
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let seq = Int64(parts[0]), seq >= 0 else { return nil }
        self.init(seq: seq, hash: String(parts[1]))
    }

    /// The anchor as a store keeps it. One that does not parse reads as an anchor no event can
    /// follow, so that verification fails instead of falling back to the genesis value.
    public static func stored(_ text: String) -> AuditAnchor {
        AuditAnchor(text) ?? AuditAnchor(seq: -1, hash: text)
    }
}

/// One removal of the chain's oldest events (`AuditStore.pruneAudit`): how many went and the
/// anchor the chain now starts from.
public struct AuditPruneBatch: Hashable, Sendable {
    public var count: Int
    public var anchor: AuditAnchor

    public init(count: Int, anchor: AuditAnchor) {
        self.count = count
        self.anchor = anchor
    }
}
