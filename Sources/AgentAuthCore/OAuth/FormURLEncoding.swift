/// `application/x-www-form-urlencoded` bodies as OAuth clients send them (RFC 6749 Appendix B):
/// every byte outside the unreserved set `A-Z a-z 0-9 - . _ ~` is percent-encoded from UTF-8.
/// Foundation's `addingPercentEncoding` with `.alphanumerics` would leave non-ASCII letters raw.
public enum FormURLEncoding {
    public static func encode(_ value: some StringProtocol) -> String {
        var encoded = ""
        encoded.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            if isUnreserved(byte) {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded += "%" + String(hexDigits[Int(byte >> 4)]) + String(hexDigits[Int(byte & 0x0F)])
            }
        }
        return encoded
    }

    /// `name=value&…` with both sides encoded, in the given order.
    public static func encode(_ parameters: [(name: String, value: String)]) -> String {
        parameters.map { encode($0.name) + "=" + encode($0.value) }.joined(separator: "&")
    }

    private static let hexDigits = Array("0123456789ABCDEF")

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2D, 0x2E, 0x5F, 0x7E: true
        default: false
        }
    }
}
