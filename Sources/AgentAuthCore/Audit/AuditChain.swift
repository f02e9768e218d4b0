import Crypto
import Foundation

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

        public var description: String {
            switch self {
            case .edited(let seq): "event \(seq) was edited (its hash does not match its content)"
            case .broken(let seq): "the chain breaks before event \(seq) (an event was deleted or inserted)"
            case .missingStart: "the chain does not begin with the \(AuditChain.initializationType) event (its start, or the whole log, was deleted)"
            }
        }
    }

    /// Checks a whole chain, oldest first: it must begin with the initialisation record and every
    /// event must follow the one before it. Returns the first problem, or `nil` when intact. (A cut
    /// at the end is caught only against an anchor kept outside the database: `--anchor`.)
    public static func verify(_ events: [AuditEvent], key: AuditChainKey) -> Problem? {
        guard let first = events.first, first.type == initializationType else { return .missingStart }
        var previous: (seq: Int64, hash: String) = (0, genesis)
        for event in events {
            guard event.seq == previous.seq + 1, event.previousHash == previous.hash else { return .broken(seq: event.seq) }
            guard digest(event, key: key) == event.hash else { return .edited(seq: event.seq) }
            previous = (event.seq, event.hash)
        }
        return nil
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
