import Foundation

/// The one rule for what a caller-supplied value may look like in the audit log: anything
/// credential-shaped is replaced before it is hashed into the chain, whichever field it arrived
/// in (a secret sent as a client id, a key pasted into a name). Every event passes through it on
/// its way to the store (`AuditChain.link`), so no path into the log can skip it.
public enum AuditRedaction {
    /// The longest value kept whole; longer values are cut, with a marker. Our own ids, reasons
    /// and details are far shorter.
    public static let maxValueBytes = 256

    static let secretFormats = [SecretFormat.apiKey, SecretFormat.clientSecret]

    /// `value` as it may be stored: a secret of ours becomes its listing form (`sk-agent-ABCD…WXYZ`)
    /// when well formed and `sk-agent-[redacted]` otherwise; a JWT becomes `[redacted JWT]`; an
    /// overlong value is cut to `maxValueBytes`.
    public static func redact(_ value: String) -> String {
        // Byte searches: Foundation's `contains(_:)` on Linux goes through CFString and was the
        // largest part of writing a token request's audit event. Our prefixes are ASCII, so a
        // byte match finds every occurrence a character match would (and more, never fewer).
        for format in secretFormats where value.utf8.firstRange(of: format.prefix.utf8) != nil {
            if format.isWellFormed(value) { return format.display(value) }
            return format.prefix + "[redacted]"
        }
        if looksLikeJWT(value) { return "[redacted JWT]" }
        guard value.utf8.count > maxValueBytes else { return value }
        var cut = Substring(value)
        while cut.utf8.count > maxValueBytes - 3 { cut = cut.dropLast() }
        return cut + "…"
    }

    public static func redact(_ value: String?) -> String? {
        value.map { redact($0) }
    }

    /// Redacts every caller-influenced field of an event (its type and outcome are ours).
    public static func redact(_ event: AuditEvent) -> AuditEvent {
        var event = event
        event.agentID = redact(event.agentID)
        event.credentialID = redact(event.credentialID)
        event.clientAddress = redact(event.clientAddress)
        event.requestID = redact(event.requestID)
        var details: [String: String] = [:]
        for (key, value) in event.details { details[redact(key)] = redact(value) }
        event.details = details
        return event
    }

    /// Compact JWS or JWE: a JOSE header (`eyJ`, base64url of `{"`) followed by at least two
    /// dot-separated segments.
    static func looksLikeJWT(_ value: String) -> Bool {
        let bytes = value.utf8
        guard let start = bytes.firstRange(of: "eyJ".utf8) else { return false }
        return bytes[start.lowerBound...].count(where: { $0 == UInt8(ascii: ".") }) >= 2
    }
}
