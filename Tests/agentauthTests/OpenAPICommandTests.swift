import Foundation
import Testing

extension OperationsProcessTests {
    @Suite("agentauth openapi")
    struct OpenAPICommandTests {
        @Test("prints docs/openapi.json byte for byte, without a database or a master key")
        func printsDocument() async throws {
            let committedPath = URL(fileURLWithPath: #filePath)
                .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("docs/openapi.json").path
            let committed = try #require(FileManager.default.contents(atPath: committedPath))
            try await withTemporaryDirectory { directory in
                let result = try await Binaries.agentauth(["openapi"], in: directory)
                #expect(result.status == 0, "\(result.stderr)")
                #expect(Data(result.stdout.utf8) == committed)
                #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
            }
        }
    }
}
