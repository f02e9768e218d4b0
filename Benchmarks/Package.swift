// swift-tools-version:6.1
import PackageDescription

// Benchmarks for AgentAuth, a package of their own so that the library's users and its CI
// never build them: `cd Benchmarks && swift package benchmark` (package-benchmark), plus the
// tools `scripts/bench-http.sh` runs (the framework-ceiling server and the bulk seeder).
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "agentauth-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "agentauth", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
    ],
    targets: [
        .executableTarget(
            name: "AgentAuthBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "AgentAuthCore", package: "agentauth"),
                .product(name: "AgentAuthSQLite", package: "agentauth"),
                .product(name: "AgentAuthMiddleware", package: "agentauth"),
            ],
            path: "Benchmarks/AgentAuthBenchmarks",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The framework ceiling: Hummingbird answering the example API's JSON body, no auth.
        .executableTarget(
            name: "hello-server",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        // Bulk-inserts API keys and revoked token ids into an initialised SQLite store.
        .executableTarget(
            name: "bench-seed",
            dependencies: [
                .product(name: "AgentAuthCore", package: "agentauth"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
