import AgentAuthTesting
import Foundation
import Testing

extension TimedProcessTests {
    /// DESIGN.md "Resource servers are built from the published products alone": a package of
    /// its own, outside this repository, that depends on it by path and names only the
    /// `AgentAuthMiddleware` product (plus Hummingbird and ArgumentParser from their own
    /// packages), builds the example API's sources. Nested in the serialized suite: a cold
    /// build takes both cores for minutes, which would skew the timed tests beside it.
    @Suite("A package outside the repository")
    struct OutsidePackageTests {
        static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        /// Under the repository's `.build`, kept between runs so that later builds are incremental.
        static let scratchPath = root.appendingPathComponent(".build/outside-package")

        @Test(
            "a package depending only on published products builds the example API's sources",
            .timeLimit(.minutes(40))
        )
        func buildsExampleAPI() async throws {
            try await withTemporaryDirectory { directory in
                let sources = directory.appendingPathComponent("Sources/resource-server")
                try FileManager.default.createDirectory(at: sources, withIntermediateDirectories: true)
                let exampleDirectory = Self.root.appendingPathComponent("Sources/example-agent-api")
                let files = try FileManager.default.contentsOfDirectory(atPath: exampleDirectory.path).filter { $0.hasSuffix(".swift") }
                #expect(!files.isEmpty)
                for file in files {
                    let source = try String(contentsOf: exampleDirectory.appendingPathComponent(file), encoding: .utf8)
                    // SwiftPM lets a target import any module built beside it, the internal ones too: the build
                    // alone would not notice an `import AgentAuthHTTP`.
                    let imports = Set(source.split(separator: "\n").filter { $0.hasPrefix("import ") }.map { $0.dropFirst("import ".count) })
                    #expect(imports.isSubset(of: Self.publishedModules), "\(file) imports \(imports.subtracting(Self.publishedModules).sorted())")
                    try FileManager.default.copyItem(at: exampleDirectory.appendingPathComponent(file), to: sources.appendingPathComponent(file))
                }
                try Data(Self.manifest.utf8).write(to: directory.appendingPathComponent("Package.swift"))

                let started = ContinuousClock.now
                // https://github.com/… URLs resolve as on any machine of this project: git's own
                // `url.<base>.insteadOf` setting points them at local copies where there are some.
                let result = try await ChildProcess.run(
                    "/usr/bin/env",
                    ["swift", "build", "--scratch-path", Self.scratchPath.path, "--product", "resource-server"],
                    directory: directory.path
                )
                let output = (result.stdout + result.stderr).split(separator: "\n").suffix(60).joined(separator: "\n")
                #expect(result.status == 0, "the outside package failed to build (\(ContinuousClock.now - started)):\n\(output)")
                let binary = Self.scratchPath.appendingPathComponent("debug/resource-server")
                #expect(FileManager.default.isExecutableFile(atPath: binary.path), "no resource-server binary at \(binary.path)")
                print("outside package built in \(ContinuousClock.now - started)")
            }
        }

        /// What the example may import: the published product, its two other dependencies, Foundation.
        static let publishedModules: Set<Substring> = ["AgentAuthMiddleware", "ArgumentParser", "Foundation", "Hummingbird"]

        /// A user's manifest: this repository by path, its products by name, nothing internal.
        static var manifest: String {
            let identity = root.lastPathComponent.lowercased()
            return """
                // swift-tools-version:6.2
                import PackageDescription

                let package = Package(
                    name: "resource-server",
                    platforms: [.macOS(.v15)],
                    dependencies: [
                        .package(path: \(String(reflecting: root.path))),
                        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
                        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
                    ],
                    targets: [
                        .executableTarget(
                            name: "resource-server",
                            dependencies: [
                                .product(name: "AgentAuthMiddleware", package: \(String(reflecting: identity))),
                                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                                .product(name: "Hummingbird", package: "hummingbird"),
                            ],
                            swiftSettings: [
                                .swiftLanguageMode(.v6),
                                .enableUpcomingFeature("ExistentialAny"),
                                .enableUpcomingFeature("MemberImportVisibility"),
                                .enableUpcomingFeature("InternalImportsByDefault"),
                            ]
                        )
                    ]
                )

                """
        }
    }
}
