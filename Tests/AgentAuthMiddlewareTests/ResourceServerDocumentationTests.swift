import Foundation
import Testing

@Suite("docs/resource-server.md")
struct ResourceServerDocumentationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("the complete program in docs/resource-server.md is the example-agent-api target, file by file")
    func exampleIsTheBuiltTarget() throws {
        let document = try String(contentsOf: Self.root.appendingPathComponent("docs/resource-server.md"), encoding: .utf8)
        let sources = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("Sources/example-agent-api").path)
            .filter { $0.hasSuffix(".swift") }
            .sorted()
        #expect(sources == ["ExampleAgentAPI.swift", "ExampleRoutes.swift"])
        for file in sources {
            let path = "Sources/example-agent-api/\(file)"
            let source = try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
            let marker = "<!-- example-agent-api: \(path) -->\n```swift\n"
            let start = try #require(document.range(of: marker), "docs/resource-server.md shows \(path)")
            let end = try #require(document.range(of: "\n```", range: start.upperBound..<document.endIndex))
            #expect(String(document[start.upperBound..<end.lowerBound]) + "\n" == source, "docs/resource-server.md differs from \(path)")
        }
    }
}
