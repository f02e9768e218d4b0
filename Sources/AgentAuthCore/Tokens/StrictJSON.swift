import Foundation

/// Checks that bytes are one JSON object with no duplicate member names at any depth and at
/// most `maxDepth` levels of nesting (SECURITY-CASES 21, 48).
///
/// JSON parsers disagree on duplicates (first wins, last wins, error), which lets a token mean
/// one thing to us and another to a different verifier; RFC 7515 §5.2 and RFC 8725 §3.1 say
/// to reject them. Foundation's decoders don't report duplicates and no listed library does,
/// so this small scanner runs before decoding. It validates structure only; values are
/// decoded by `JSONDecoder` afterwards.
enum StrictJSON {
    static let maxDepth = 16

    static func isStrictObject(_ bytes: some Collection<UInt8>) -> Bool {
        var scanner = Scanner(bytes: Array(bytes))
        scanner.skipWhitespace()
        guard scanner.peek == UInt8(ascii: "{"), scanner.value(depth: 0) else { return false }
        scanner.skipWhitespace()
        return scanner.isAtEnd
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        var isAtEnd: Bool { index >= bytes.count }
        var peek: UInt8? { isAtEnd ? nil : bytes[index] }

        mutating func skipWhitespace() {
            while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        mutating func value(depth: Int) -> Bool {
            guard depth < StrictJSON.maxDepth else { return false }
            skipWhitespace()
            switch peek {
            case UInt8(ascii: "{"): return object(depth: depth + 1)
            case UInt8(ascii: "["): return array(depth: depth + 1)
            case UInt8(ascii: "\""): return string() != nil
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default: return number()
            }
        }

        mutating func object(depth: Int) -> Bool {
            index += 1
            var names = Set<[UInt8]>()
            skipWhitespace()
            if peek == UInt8(ascii: "}") {
                index += 1
                return true
            }
            while true {
                skipWhitespace()
                guard peek == UInt8(ascii: "\""), let name = string() else { return false }
                // Compare decoded names so that "a" and "\u0061" count as the same member.
                guard let decoded = Self.decodedName(name), names.insert(decoded).inserted else { return false }
                skipWhitespace()
                guard peek == UInt8(ascii: ":") else { return false }
                index += 1
                guard value(depth: depth) else { return false }
                skipWhitespace()
                switch peek {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "}"):
                    index += 1
                    return true
                default: return false
                }
            }
        }

        mutating func array(depth: Int) -> Bool {
            index += 1
            skipWhitespace()
            if peek == UInt8(ascii: "]") {
                index += 1
                return true
            }
            while true {
                guard value(depth: depth) else { return false }
                skipWhitespace()
                switch peek {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "]"):
                    index += 1
                    return true
                default: return false
                }
            }
        }

        /// The raw bytes of a string literal including its quotes, or nil when malformed.
        mutating func string() -> ArraySlice<UInt8>? {
            let start = index
            index += 1
            while let byte = peek {
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return bytes[start..<index]
                case UInt8(ascii: "\\"):
                    guard peek != nil else { return nil }
                    index += 1
                case 0..<0x20: return nil
                default: break
                }
            }
            return nil
        }

        mutating func literal(_ word: String) -> Bool {
            let expected = Array(word.utf8)
            guard bytes.count - index >= expected.count, Array(bytes[index..<index + expected.count]) == expected else { return false }
            index += expected.count
            return true
        }

        mutating func number() -> Bool {
            let start = index
            while let byte = peek,
                (0x30...0x39).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".")
                    || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
            {
                index += 1
            }
            return index > start
        }

        static func decodedName(_ literal: ArraySlice<UInt8>) -> [UInt8]? {
            guard !literal.contains(UInt8(ascii: "\\")) else {
                return (try? JSONDecoder().decode(String.self, from: Data(literal))).map { Array($0.utf8) }
            }
            return Array(literal.dropFirst().dropLast())
        }
    }
}
