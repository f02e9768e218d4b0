import AgentAuthCore
import Foundation
import Testing

@Suite("PATCH members: absent, null or a value")
struct FieldPatchTests {
    struct Body: Decodable {
        let name: FieldPatch<String>
        let quota: FieldPatch<Quota>
        let scopes: [String]?

        enum CodingKeys: String, CodingKey { case name, quota, scopes }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decodePatch(String.self, forKey: .name)
            quota = try container.decodePatch(Quota.self, forKey: .quota)
            scopes = try container.decodeUnlessNull([String].self, forKey: .scopes)
        }
    }

    func decode(_ json: String) throws -> Body {
        try JSONDecoder().decode(Body.self, from: Data(json.utf8))
    }

    @Test("absent keeps, null removes, a value sets")
    func triState() throws {
        let absent = try decode("{}")
        #expect(absent.name == .unchanged && absent.quota == .unchanged && absent.scopes == nil)
        #expect(absent.name.applied(to: "kept") == "kept")
        #expect(!absent.name.isPresent)

        let null = try decode(#"{"name":null,"quota":null}"#)
        #expect(null.name == .removed && null.quota == .removed)
        #expect(null.name.applied(to: "kept") == nil)
        #expect(null.name.isPresent)

        let value = try decode(#"{"name":"new","quota":{"requests":5,"period":"hour"},"scopes":["a"]}"#)
        #expect(value.name == .set("new"))
        #expect(value.quota == .set(Quota(requests: 5, period: .hour)))
        #expect(value.scopes == ["a"])
        #expect(value.name.applied(to: "kept") == "new")
        #expect(value.name.map { $0.uppercased() } == .set("NEW"))
    }

    @Test(
        "a value of the wrong type, and null where it can't remove, are refused",
        arguments: [#"{"name":5}"#, #"{"quota":{"requests":5}}"#, #"{"scopes":null}"#]
    )
    func refused(_ json: String) {
        #expect(throws: DecodingError.self) { try decode(json) }
    }
}
