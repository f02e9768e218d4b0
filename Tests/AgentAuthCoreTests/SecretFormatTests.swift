import Foundation
import Testing

@testable import AgentAuthCore

@Suite("Key and secret format")
struct SecretFormatTests {
    // Vectors computed independently with Python's zlib.crc32 and integer base conversion.
    @Test("known vectors match an independent implementation")
    func vectors() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(SecretFormat.apiKey.make(randomBytes: Array(repeating: 0, count: 32)) == "sk-agent-00000000000000000000000000000000000000000002siQjN")
        #expect(
            SecretFormat.apiKey.make(randomBytes: Array(repeating: 0xFF, count: 32)) == "sk-agent-yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp110L9xl"
        )
        #expect(SecretFormat.clientSecret.make(randomBytes: Array(0..<32)) == "cs-agent-003aUlTJC7tjlCTQj2uNU3MFagCXG9LRKRcwGkBIDlf1unTuw")
        #expect(SecretFormat.storageHash("sk-agent-test") == "38ed0c0aa8a448065b7661feba5cf42c4ab1efb61acee9a1f933d723ae612965")
    }

    @Test("generated keys are well formed, 58 characters, base62, and distinct")
    func generatedKeys() {
        var seen = Set<String>()
        for _ in 0..<2000 {
            let key = SecretFormat.apiKey.generate()
            #expect(key.count == 58)
            #expect(key.hasPrefix("sk-agent-"))
            #expect(key.dropFirst(9).allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
            #expect(SecretFormat.apiKey.isWellFormed(key))
            #expect(!SecretFormat.clientSecret.isWellFormed(key), "an API key is not a client secret")
            seen.insert(key)
        }
        #expect(seen.count == 2000)
    }

    @Test("every single-character substitution is caught by shape or checksum")
    func substitutionsAreCaught() {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_ .")
        for _ in 0..<20 {
            let key = Array(SecretFormat.apiKey.generate())
            for index in key.indices {
                let replacement = alphabet.randomElement()!
                guard replacement != key[index] else { continue }
                var mutated = key
                mutated[index] = replacement
                #expect(!SecretFormat.apiKey.isWellFormed(String(mutated)), "\(String(mutated))")
            }
        }
    }

    @Test("transposed neighbours are caught")
    func transpositions() {
        for _ in 0..<20 {
            let key = Array(SecretFormat.apiKey.generate())
            for index in key.indices.dropFirst(9).dropLast() where key[index] != key[index + 1] {
                var mutated = key
                mutated.swapAt(index, index + 1)
                #expect(!SecretFormat.apiKey.isWellFormed(String(mutated)))
            }
        }
    }

    @Test("bad shapes are refused")
    func badShapes() {
        let key = SecretFormat.apiKey.generate()
        let candidates = [
            "", "sk-agent-", key + " ", " " + key, key + "\n", key + "\u{0}", String(key.dropLast()), key + "0",
            "SK-AGENT-" + key.dropFirst(9), key.replacingOccurrences(of: "sk-agent-", with: "sk_agent_"),
            key.uppercased(), key.lowercased(), key.replacingOccurrences(of: "a", with: "а"),  // Cyrillic а
            String(repeating: "A", count: 58),
        ]
        for candidate in candidates where candidate != key {
            #expect(!SecretFormat.apiKey.isWellFormed(candidate), "\(candidate.debugDescription)")
        }
    }

    @Test("display shows the first and last four characters after the prefix")
    func display() {
        let key = "sk-agent-00000000000000000000000000000000000000000002siQjN"
        #expect(SecretFormat.apiKey.display(key) == "sk-agent-0000…iQjN")
    }

    @Test("identifiers have their prefix and 20 base62 characters")
    func identifiers() {
        let id = Identifier.make(prefix: "agt_")
        #expect(Identifier.isValid(id, prefix: "agt_"))
        #expect(id.count == 24)
        #expect(!Identifier.isValid(id, prefix: "key_"))
        #expect(!Identifier.isValid("agt_../../etc/passwd0", prefix: "agt_"))
        #expect(!Identifier.isValid(id + "0", prefix: "agt_"))
    }
}
