import AgentAuthCore
import Foundation
import Testing

/// The one redaction rule of the audit log (SECURITY-CASES 34, 50).
@Suite("Audit redaction")
struct AuditRedactionTests {
    @Test("our secrets become their listing form or a marker; JWTs and oversized values don't pass whole")
    func redaction() {
        let key = SecretFormat.apiKey.generate()
        let secret = SecretFormat.clientSecret.generate()
        #expect(AuditRedaction.redact(key) == SecretFormat.apiKey.display(key))
        #expect(AuditRedaction.redact(secret) == SecretFormat.clientSecret.display(secret))
        #expect(AuditRedaction.redact(String(key.dropLast())) == "sk-agent-[redacted]", "a mistyped key is still a secret")
        #expect(AuditRedaction.redact("client " + secret + " here") == "cs-agent-[redacted]")
        #expect(AuditRedaction.redact("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln") == "[redacted JWT]")
        #expect(AuditRedaction.redact("Bearer eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.") == "[redacted JWT]")
        let long = AuditRedaction.redact(String(repeating: "é", count: 1000))
        #expect(long.utf8.count <= AuditRedaction.maxValueBytes && long.hasSuffix("…"))
        for ordinary in ["agt_0123456789abcdefghij", "cli_x", "unknown_client", "10.0.0.1", "conversations:read billing:read", ""] {
            #expect(AuditRedaction.redact(ordinary) == ordinary)
        }
    }
}

@Suite("RSA key size")
struct RSAKeySizeTests {
    @Test("the modulus length is counted in bits, leading zero bytes and bits aside")
    func bits() {
        func modulus(_ bytes: [UInt8]) -> String { Base64URL.encode(Data(bytes)) }
        #expect(RSAKeySize.bits(ofModulus: modulus([0x80] + [UInt8](repeating: 1, count: 255))) == 2048)
        #expect(RSAKeySize.bits(ofModulus: modulus([0x00, 0x80] + [UInt8](repeating: 1, count: 255))) == 2048)
        #expect(RSAKeySize.bits(ofModulus: modulus([0x7F] + [UInt8](repeating: 1, count: 255))) == 2047)
        #expect(RSAKeySize.bits(ofModulus: "not base64url!") == nil)
        #expect(!RSAKeySize.isStrongEnough(modulus: modulus([0xFF] + [UInt8](repeating: 1, count: 127))))
        #expect(RSAKeySize.isStrongEnough(modulus: modulus([0xC0] + [UInt8](repeating: 1, count: 383))))
    }
}
