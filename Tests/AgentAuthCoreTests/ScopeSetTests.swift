import AgentAuthCore
import Testing

@Suite("Scopes (RFC 6749 §3.3)")
struct ScopeSetTests {
    @Test("parses single-space-separated scope tokens")
    func parses() throws {
        let scopes = try ScopeSet(parsing: "conversations:read billing:read conversations:read")
        #expect(scopes.count == 2)
        #expect(scopes.description == "billing:read conversations:read")
        #expect(scopes.contains(Scope("billing:read")!))
    }

    @Test(
        "refuses what the grammar refuses",
        arguments: [
            "", " ", "a  b", " a", "a ", "a\tb", "a\nb", "say\"hi\"", "back\\slash", "ünïcode", "a\u{7F}", String(repeating: "x", count: 129),
        ]
    )
    func refuses(_ value: String) {
        #expect(throws: ScopeError.self) { try ScopeSet(parsing: value) }
    }

    @Test("every printable ASCII character except space, quote and backslash is allowed")
    func grammar() {
        for byte in UInt8(0x21)...UInt8(0x7E) {
            let token = String(UnicodeScalar(byte))
            #expect((Scope(token) != nil) == (byte != 0x22 && byte != 0x5C), "\(token)")
        }
    }

    @Test("matching is exact and case-sensitive")
    func caseSensitive() throws {
        let granted = try ScopeSet(parsing: "admin")
        #expect(!granted.contains(Scope("Admin")!))
        #expect(!granted.contains(Scope("ADMIN")!))
        #expect(!granted.contains(Scope("admin:")!))
        #expect(try ScopeSet(parsing: "a b").isSuperset(of: ScopeSet(parsing: "b")))
        #expect(try ScopeSet(parsing: "a b").intersection(ScopeSet(parsing: "b c")).description == "b")
    }

    @Test("at most 100 scopes")
    func limit() throws {
        _ = try ScopeSet(validating: (0..<100).map { "s\($0)" })
        #expect(throws: ScopeError.tooMany(limit: 100)) { try ScopeSet(validating: (0...100).map { "s\($0)" }) }
        #expect(throws: ScopeError.empty) { try ScopeSet(validating: []) }
    }
}
