/// Base62 with the alphabet `0-9A-Za-z`, as DESIGN.md fixes for keys and identifiers.
///
/// No listed library offers base62, and the conversion is a few lines of long division.
enum Base62 {
    static let alphabet: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    static func isDigit(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    /// Encodes `bytes` as one big-endian number, left-padded with `0` to `width` digits.
    static func encode(_ bytes: some Collection<UInt8>, width: Int) -> String {
        var number = Array(bytes)
        var digits: [UInt8] = []
        digits.reserveCapacity(width)
        while number.contains(where: { $0 != 0 }) {
            var remainder: UInt32 = 0
            for index in number.indices {
                let accumulator = remainder << 8 | UInt32(number[index])
                number[index] = UInt8(accumulator / 62)
                remainder = accumulator % 62
            }
            digits.append(alphabet[Int(remainder)])
        }
        precondition(digits.count <= width, "value does not fit in \(width) base62 digits")
        digits.append(contentsOf: repeatElement(alphabet[0], count: width - digits.count))
        return String(decoding: digits.reversed(), as: UTF8.self)
    }

    /// Encodes an unsigned 32-bit value, zero-padded to `width` digits.
    static func encode(_ value: UInt32, width: Int) -> String {
        withUnsafeBytes(of: value.bigEndian) { encode($0, width: width) }
    }
}
