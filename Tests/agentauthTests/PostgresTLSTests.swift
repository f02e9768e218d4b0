import AgentAuthTesting
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension OperationsProcessTests {
    /// `sslmode` in a `--database postgres://…` URL, against a real PostgreSQL without TLS and one
    /// with TLS only (a self-signed certificate made here; `hostssl` alone in its pg_hba.conf, so a
    /// success proves the connection was encrypted).
    @Suite("agentauth on PostgreSQL with TLS", .serialized)
    struct PostgresTLSTests {
        @Test("sslmode=require against a server without TLS: one line naming host and port and why")
        func requireWithoutTLS() async throws {
            let url = try await ThrowawayPostgres.newDatabase(prefix: "agentauth_tls_")
            let port = try #require(URLComponents(string: url)?.port)
            try await withTemporaryDirectory { directory in
                let refused = try await Binaries.agentauth(["init", "--database", url + "?sslmode=require"], in: directory)
                #expect(refused.status != 0)
                #expect(refused.stderr.contains("127.0.0.1:\(port)"), "\(refused.stderr)")
                #expect(refused.stderr.contains("does not offer TLS"), "\(refused.stderr)")
                #expect(refused.stderr.split(separator: "\n").count == 1, "one line:\n\(refused.stderr)")
                let plain = try await Binaries.agentauth(["init", "--database", url + "?sslmode=disable"], in: directory)
                #expect(plain.status == 0, "\(plain.stderr)")
            }
        }

        @Test("a server that does not answer: the line names host, port and 'connection refused'")
        func refused() async throws {
            let port = try LoopbackPort.free()
            try await withTemporaryDirectory { directory in
                let result = try await Binaries.agentauth(
                    ["init", "--database", "postgres://agentauth:secret-pw@127.0.0.1:\(port)/x"],
                    in: directory
                )
                #expect(result.status != 0)
                #expect(result.stderr.contains("127.0.0.1:\(port)") && result.stderr.contains("connection refused"), "\(result.stderr)")
                #expect(!result.stderr.contains("secret-pw"))
            }
        }

        @Test("an unknown sslmode is refused, naming the allowed ones")
        func unknownMode() async throws {
            try await withTemporaryDirectory { directory in
                let result = try await Binaries.agentauth(["init", "--database", "postgres://agentauth@127.0.0.1:1/x?sslmode=always"], in: directory)
                #expect(result.status != 0)
                #expect(result.stderr.contains("sslmode must be one of disable, prefer, require, verify-ca, verify-full"), "\(result.stderr)")
            }
        }

        @Test("against a TLS-only server: require and verify-full (with sslrootcert) work, disable and an untrusted certificate are refused")
        func tlsServer() async throws {
            try await withTemporaryDirectory { directory in
                let certificate = directory.appendingPathComponent("server.crt").path
                let key = directory.appendingPathComponent("server.key").path
                let hba = directory.appendingPathComponent("pg_hba.conf").path
                let made = try await ChildProcess.run(
                    "/usr/bin/openssl",
                    [
                        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate,
                    ]
                )
                try #require(made.status == 0, "openssl: \(made.stderr)")
                try Data("local all all trust\nhostssl all all 127.0.0.1/32 trust\n".utf8).write(to: URL(fileURLWithPath: hba))
                chmod(key, 0o600)
                if getuid() == 0 {
                    // PostgreSQL runs as `postgres` and reads its key only if it owns it.
                    _ = try await ChildProcess.run("/bin/chown", ["postgres:postgres", key, certificate, hba])
                }
                let server = try await PostgresInstance(settings: [
                    "ssl=on", "ssl_cert_file=\(certificate)", "ssl_key_file=\(key)", "hba_file=\(hba)",
                ])
                defer { server.destroy() }
                let base = server.url + "/postgres"

                let required = try await Binaries.agentauth(["init", "--json", "--database", base + "?sslmode=require"], in: directory)
                #expect(required.status == 0, "\(required.stderr)")
                let verified = try await Binaries.agentauth(
                    ["agents", "list", "--json", "--database", base + "?sslmode=verify-full&sslrootcert=\(certificate)"],
                    in: directory
                )
                #expect(verified.status == 0, "\(verified.stderr)")

                let plain = try await Binaries.agentauth(["agents", "list", "--database", base + "?sslmode=disable"], in: directory)
                #expect(plain.status != 0)
                #expect(plain.stderr.contains("127.0.0.1:\(server.port)") && plain.stderr.contains("no encryption"), "\(plain.stderr)")
                let untrusted = try await Binaries.agentauth(["agents", "list", "--database", base + "?sslmode=verify-full"], in: directory)
                #expect(untrusted.status != 0)
                #expect(untrusted.stderr.contains("127.0.0.1:\(server.port)") && untrusted.stderr.contains("TLS failed"), "\(untrusted.stderr)")
            }
        }
    }
}
