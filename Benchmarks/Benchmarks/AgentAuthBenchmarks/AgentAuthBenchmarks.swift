import AgentAuthCore
import AgentAuthMiddleware
import AgentAuthSQLite
import Benchmark
import Foundation

// Time and allocations per operation on the verification and issuance paths. They report;
// nothing here gates CI. Run with `cd Benchmarks && swift package benchmark`.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput],
        timeUnits: .microseconds,
        warmupIterations: 10,
        maxDuration: .seconds(2),
        maxIterations: 100_000
    )

    // Operations of a few microseconds or less run a thousand times per sample (the figures are
    // per operation), so the harness's own cost per sample doesn't hide them.
    let fast = Benchmark.Configuration(timeUnits: .nanoseconds, scalingFactor: .kilo, maxIterations: 10_000)

    // MARK: API keys

    Benchmark("API key: shape, checksum and storage hash (no store)", configuration: fast) { benchmark in
        let key = SecretFormat.apiKey.generate()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(SecretFormat.apiKey.isWellFormed(key))
            blackHole(SecretFormat.storageHash(key))
        }
    }

    Benchmark(
        "API key: APIKeyVerifier.verify, SQLite store with 1k keys",
        closure: { benchmark in
            let fixture = try Fixtures.shared.require()
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(try await fixture.apiKeys.verify(fixture.apiKey))
            }
        },
        setup: { try await Fixtures.shared.prepare() }
    )

    Benchmark(
        "API key: middleware cache hit (APIKeyCache.lookUp)",
        configuration: fast,
        closure: { benchmark in
            let fixture = try Fixtures.shared.require()
            let cache = APIKeyCache(ttl: .seconds(60))
            let identity = try await fixture.apiKeys.verify(fixture.apiKey)
            cache.store(fixture.apiKey, identity: identity, expiresIn: nil, generation: cache.generation)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(cache.lookUp(fixture.apiKey))
            }
        },
        setup: { try await Fixtures.shared.prepare() }
    )

    // MARK: Access tokens

    for algorithm in SigningAlgorithm.allCases {
        Benchmark(
            "JWT: verify in full, \(algorithm.rawValue)",
            closure: { benchmark in
                let signer = try Fixtures.shared.require().signer(algorithm)
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    blackHole(try await signer.verifier.verify(signer.token))
                }
            },
            setup: { try await Fixtures.shared.prepare() }
        )

        Benchmark(
            "JWT: issue (sign), \(algorithm.rawValue)",
            closure: { benchmark in
                let signer = try Fixtures.shared.require().signer(algorithm)
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    blackHole(try await signer.issue())
                }
            },
            setup: { try await Fixtures.shared.prepare() }
        )
    }

    Benchmark(
        "JWT: verify from the verified-token cache (revocations still checked), EdDSA",
        configuration: fast,
        closure: { benchmark in
            let signer = try Fixtures.shared.require().signer(.eddsa)
            let verifier = TokenVerifier(
                policy: signer.verifier.policy,
                keys: signer.keys,
                revocations: RevocationList(),
                cache: VerifiedTokenCache()
            )
            _ = try await verifier.verify(signer.token)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(try await verifier.verify(signer.token))
            }
        },
        setup: { try await Fixtures.shared.prepare() }
    )

    // MARK: Deny-list

    for size in [0, 1_000_000] {
        Benchmark(
            "Deny-list: isRevoked, \(size) revoked jtis",
            configuration: fast,
            closure: { benchmark in
                let fixture = try Fixtures.shared.require()
                let list = fixture.denyList(size)
                let claims = fixture.signer(.eddsa).claims
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    blackHole(list.isRevoked(claims))
                }
            },
            setup: { try await Fixtures.shared.prepare() }
        )
    }

    // MARK: Rate limits

    for tiers in [0, 2] {
        Benchmark("Rate limits: RequestLimiter.admit, \(tiers) tiers applying", configuration: fast) { benchmark in
            let tier = RateLimitTier(name: "bench", requests: 1_000_000_000, windowSeconds: 60)
            let state = LimitsState()
            state.replace(
                with: LimitsSnapshot(
                    tiers: ["bench": tier],
                    agents: tiers > 0 ? ["agt_bench": LimitAssignment(rateLimit: "bench")] : [:],
                    clients: tiers > 0 ? ["cli_bench": LimitAssignment(rateLimit: "bench")] : [:]
                ),
                fetchBegan: state.beginFetch()
            )
            let limiter = RequestLimiter(state: state)
            let subject = LimitSubject(agentID: "agt_bench", credential: .client("cli_bench"))
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(limiter.admit(subject))
            }
        }
    }
}
