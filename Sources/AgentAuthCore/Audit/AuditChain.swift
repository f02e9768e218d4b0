import Crypto
public import Foundation

/// The key the chain's MACs are made with: derived from the master key (HKDF-SHA256), so it is
/// never in the database, and someone who can write the database cannot recompute the chain.
public struct AuditChainKey: Sendable {
    let key: SymmetricKey

    public init(masterKey: MasterKey) {
        key = HKDF<SHA256>.deriveKey(inputKeyMaterial: masterKey.key, info: Data("agentauth audit chain v1".utf8), outputByteCount: 32)
    }
}

/// The tamper-evident chain: each event's hash is an HMAC-SHA256 (under `AuditChainKey`) over
/// its position, its content and the previous event's hash, so editing a row breaks its own
/// hash, deleting one breaks the link (and the sequence) after it, and neither can be papered
/// over by recomputing hashes without the master key.
public enum AuditChain {
    public static let genesis = String(repeating: "0", count: 64)
    /// The type of the chain's first event, written with the store's initialisation: a log whose
    /// start (or whole content) was deleted can't pass for an intact one.
    public static let initializationType = AuditEventType.storeInitialized

    /// Fills in `seq`, `previousHash` and `hash` for events appended after `previous`. Every
    /// store appends through here, so every event is redacted here (`AuditRedaction`) first.
    public static func link(_ events: [AuditEvent], after previous: (seq: Int64, hash: String)?, key: AuditChainKey) -> [AuditEvent] {
        var seq = previous?.seq ?? 0
        var hash = previous?.hash ?? genesis
        return events.map { event in
            var linked = AuditRedaction.redact(event)
            // Whole milliseconds, so the stored time hashes the same after a round trip.
            linked.time = Date(timeIntervalSince1970: (event.time.timeIntervalSince1970 * 1000).rounded() / 1000)
            seq += 1
            linked.seq = seq
            linked.previousHash = hash
            linked.hash = digest(linked, key: key)
            hash = linked.hash
            return linked
        }
    }

    public static func digest(_ event: AuditEvent, key: AuditChainKey) -> String {
        // Length-prefixed fields: no separator inside a value can make two events collide.
        var canonical = ""
        func field(_ value: String?) {
            let text = value ?? "\u{0}"
            canonical += "\(text.utf8.count):\(text);"
        }
        field(event.previousHash)
        field(String(event.seq))
        field(String(Int64((event.time.timeIntervalSince1970 * 1000).rounded())))
        field(event.type.rawValue)
        field(event.agentID)
        field(event.credentialID)
        field(event.clientAddress)
        field(event.requestID)
        field(event.outcome.rawValue)
        for key in event.details.keys.sorted() {
            field(key)
            field(event.details[key])
        }
        let bytes = HMAC<SHA256>.authenticationCode(for: Data(canonical.utf8), using: key.key)
        return bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    public enum Problem: Hashable, Sendable, CustomStringConvertible {
        /// The row's content does not match its hash: it was edited.
        case edited(seq: Int64)
        /// The row does not follow the one before it: a row was deleted (or inserted).
        case broken(seq: Int64)
        /// The chain does not begin with the initialisation record: its start, or all of it, was deleted.
        case missingStart
        /// The first event kept does not follow the stored anchor: events were deleted past the
        /// anchor, or the anchor was edited.
        case anchorMismatch(seq: Int64)
        /// No `audit.pruned` event in the chain records the stored anchor: the anchor (and the
        /// events before it) was not set by a removal this log recorded.
        case anchorUnconfirmed(AuditAnchor)

        public var description: String {
            switch self {
            case .edited(let seq): "event \(seq) was edited (its hash does not match its content)"
            case .broken(let seq): "the chain breaks before event \(seq) (an event was deleted or inserted)"
            case .missingStart: "the chain does not begin with the \(AuditChain.initializationType) event (its start, or the whole log, was deleted)"
            case .anchorMismatch(let seq):
                "event \(seq), the first kept, does not follow the anchor (events were deleted past it, or the anchor was edited)"
            case .anchorUnconfirmed(let anchor):
                "no \(AuditEventType.auditPruned) event records the anchor \(anchor) (it was not set by a recorded removal)"
            }
        }
    }

    /// Checks a whole chain, oldest first: it must begin with the initialisation record and every
    /// event must follow the one before it. Returns the first problem, or `nil` when intact. (A cut
    /// at the end is caught only against an anchor kept outside the database: `--anchor`.)
    public static func verify(_ events: [AuditEvent], key: AuditChainKey) -> Problem? {
        guard let first = events.first, first.type == initializationType else { return .missingStart }
        return verifyLinks(events, from: .genesis, key: key)
    }

    /// Checks what a store keeps: from the genesis value when nothing was removed (`anchor` is
    /// `nil`), else from the anchor. Then the first event must follow the anchor, and a kept
    /// `audit.pruned` event (whose hash no one without the master key can forge) must record
    /// that very anchor, so that neither deleting more of the start nor moving the anchor to
    /// match passes.
    public static func verify(_ events: [AuditEvent], anchor: AuditAnchor?, key: AuditChainKey) -> Problem? {
        guard let anchor else { return verify(events, key: key) }
        guard let first = events.first else { return .anchorUnconfirmed(anchor) }
        guard first.seq == anchor.seq + 1, first.previousHash == anchor.hash else { return .anchorMismatch(seq: first.seq) }
        if let problem = verifyLinks(events, from: anchor, key: key) { return problem }
        guard events.contains(where: { records($0, anchor: anchor) }) else { return .anchorUnconfirmed(anchor) }
        return nil
    }

    /// Checks that `events` (oldest first) continue the chain at `anchor`, each following the one
    /// before it with its content intact: a segment, as a removal checks what it removes and an
    /// export's reader checks the file.
    public static func verifyLinks(_ events: [AuditEvent], from anchor: AuditAnchor, key: AuditChainKey) -> Problem? {
        var previous = anchor
        for event in events {
            guard event.seq == previous.seq + 1, event.previousHash == previous.hash else { return .broken(seq: event.seq) }
            guard digest(event, key: key) == event.hash else { return .edited(seq: event.seq) }
            previous = AuditAnchor(seq: event.seq, hash: event.hash)
        }
        return nil
    }

    /// The `audit.pruned` event a removal appends, recording the anchor it left (`count` events
    /// removed) and why (`details`: the cut, who asked).
    public static func prunedEvent(count: Int, anchor: AuditAnchor, details: [String: String], at time: Date) -> AuditEvent {
        var details = details
        details["count"] = String(count)
        details["anchor_seq"] = String(anchor.seq)
        details["anchor_hash"] = anchor.hash
        return AuditEvent(time: time, type: .auditPruned, details: details)
    }

    static func records(_ event: AuditEvent, anchor: AuditAnchor) -> Bool {
        event.type == .auditPruned && event.details["anchor_seq"] == String(anchor.seq) && event.details["anchor_hash"] == anchor.hash
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
