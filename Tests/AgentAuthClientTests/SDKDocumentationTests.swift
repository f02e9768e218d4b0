import Foundation
import Testing

@Suite("docs/sdk.md")
struct SDKDocumentationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("the complete agent in docs/sdk.md is the example-agent target, which the package builds")
    func exampleIsTheBuiltTarget() throws {
        let document = try String(contentsOf: Self.root.appendingPathComponent("docs/sdk.md"), encoding: .utf8)
        let source = try String(contentsOf: Self.root.appendingPathComponent("Sources/example-agent/ExampleAgent.swift"), encoding: .utf8)
        let marker = "<!-- example-agent: Sources/example-agent/ExampleAgent.swift -->\n```swift\n"
        let start = try #require(document.range(of: marker), "docs/sdk.md marks where the example is")
        let end = try #require(document.range(of: "\n```", range: start.upperBound..<document.endIndex))
        #expect(String(document[start.upperBound..<end.lowerBound]) + "\n" == source)
    }
}
