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

        @Test("the document's info.version is the version agentauth --version prints")
        func versionMatches() async throws {
            try await withTemporaryDirectory { directory in
                let document = try await Binaries.agentauth(["openapi"], in: directory).json
                let version = try #require((document["info"] as? [String: Any])?["version"] as? String)
                let printed = try await Binaries.agentauth(["--version"], in: directory)
                #expect(printed.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == version)
            }
        }
    }
}
