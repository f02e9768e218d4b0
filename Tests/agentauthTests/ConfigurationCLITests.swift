import AgentAuthTesting
import Foundation
import NIOHTTP1
import Testing

extension OperationsProcessTests {
    /// docs/configuration.md: flags > `AGENTAUTH_…` > `--config` file > default, one line naming
    /// the source for a wrong value, `config show` with sources and secrets redacted.
    @Suite("agentauth configuration")
    struct ConfigurationCLITests {
        static func write(_ json: String, to directory: URL, name: String = "agentauth.json") throws -> String {
            let path = directory.appendingPathComponent(name).path
            try Data(json.utf8).write(to: URL(fileURLWithPath: path))
            return path
        }

        /// `config show --json` as a name → (value, source, origin) map.
        static func shown(_ result: Binaries.Result) throws -> [String: (value: String?, source: String, origin: String)] {
            let settings = try #require(result.json["settings"] as? [[String: Any]], "\(result.stdout)\(result.stderr)")
            var shown: [String: (value: String?, source: String, origin: String)] = [:]
            for setting in settings {
                let name = try #require(setting["name"] as? String)
                shown[name] = (setting["value"] as? String, setting["source"] as? String ?? "", setting["origin"] as? String ?? "")
            }
            return shown
        }

        @Test("port and issuer: the flag beats AGENTAUTH_…, which beats the --config file, which beats the default")
        func precedence() async throws {
            try await withTemporaryDirectory { directory in
                let file = try Self.write(#"{"port": 9001, "issuer": "https://file.example", "default-audience": "from-file"}"#, to: directory)
                let fileOnly = try Self.shown(try await Binaries.agentauth(["config", "show", "--json", "--config", file], in: directory))
                #expect(fileOnly["port"]?.value == "9001" && fileOnly["port"]?.source == "file")
                #expect(fileOnly["issuer"]?.value == "https://file.example" && fileOnly["issuer"]?.source == "file")
                #expect(fileOnly["host"]?.value == "127.0.0.1" && fileOnly["host"]?.source == "default")

                let environment = ["AGENTAUTH_PORT": "9002", "AGENTAUTH_ISSUER": "https://env.example"]
                let env = try Self.shown(
                    try await Binaries.agentauth(["config", "show", "--json", "--config", file], in: directory, environment: environment)
                )
                #expect(env["port"]?.value == "9002" && env["port"]?.source == "env" && env["port"]?.origin == "AGENTAUTH_PORT")
                #expect(env["issuer"]?.value == "https://env.example" && env["issuer"]?.source == "env")
                #expect(env["default-audience"]?.value == "from-file", "a setting the environment leaves alone still comes from the file")

                let flags = try Self.shown(
                    try await Binaries.agentauth(
                        ["config", "show", "--json", "--config", file, "--port", "9003", "--issuer", "https://flag.example"],
                        in: directory,
                        environment: environment
                    )
                )
                #expect(flags["port"]?.value == "9003" && flags["port"]?.source == "flag" && flags["port"]?.origin == "--port")
                #expect(flags["issuer"]?.value == "https://flag.example" && flags["issuer"]?.source == "flag")
            }
        }

        @Test("serve runs with what the file and the environment say: the file's port, the environment's issuer over the file's")
        func serveUsesResolvedSettings() async throws {
            try await withTemporaryDirectory { directory in
                let port = try LoopbackPort.free()
                let file = try Self.write(#"{"port": \#(port), "issuer": "https://file.example"}"#, to: directory)
                let server = try await RunningProcess(
                    "agentauth",
                    ["serve", "--config", file],
                    in: directory,
                    environment: ["AGENTAUTH_ISSUER": "https://env.example"]
                )
                defer { server.stop() }
                try await server.waitForOutput("AgentAuth listening on http://127.0.0.1:\(port) (issuer https://env.example)")
                let metadata = try await HTTP.send(.GET, "http://127.0.0.1:\(port)/.well-known/oauth-authorization-server")
                #expect(metadata.body.contains(#""issuer":"https:\/\/env.example""#) || metadata.body.contains(#""issuer":"https://env.example""#))
            }
        }

        @Test("config show never prints the master key or the database password, and names each source")
        func redaction() async throws {
            try await withTemporaryDirectory { directory in
                let masterKeyCanary = Data(repeating: 0x5A, count: 32).base64EncodedString()
                let passwordCanary = "pw-canary-7f3e9a"
                let environment = [
                    "AGENTAUTH_MASTER_KEY": masterKeyCanary, "AGENTAUTH_DATABASE": "postgres://agentauth:\(passwordCanary)@db.internal:5432/auth",
                ]
                for format in [["--json"], []] {
                    let result = try await Binaries.agentauth(["config", "show"] + format, in: directory, environment: environment)
                    #expect(result.status == 0, "\(result.stderr)")
                    #expect(!result.stdout.contains(masterKeyCanary) && !result.stderr.contains(masterKeyCanary))
                    #expect(!result.stdout.contains(passwordCanary) && !result.stderr.contains(passwordCanary))
                    #expect(result.stdout.contains("db.internal"), "the rest of the URL is shown")
                    #expect(result.stdout.contains("AGENTAUTH_MASTER_KEY"), "where the key comes from is shown")
                }
                let shown = try Self.shown(try await Binaries.agentauth(["config", "show", "--json"], in: directory, environment: environment))
                #expect(shown["master-key"]?.value == "<redacted>" && shown["master-key"]?.source == "env")
                #expect(shown["database"]?.value == "postgres://agentauth:REDACTED@db.internal:5432/auth" && shown["database"]?.source == "env")
            }
        }

        @Test(
            "a wrong value from the environment or the file stops serve with one line naming it, before anything is created",
            arguments: [
                (["AGENTAUTH_PORT": "70000"], nil, "AGENTAUTH_PORT: must be between 1 and 65535"),
                (["AGENTAUTH_PORT": "eighty"], nil, "AGENTAUTH_PORT: must be a whole number"),
                (["AGENTAUTH_ISSUER": "auth.example.com"], nil, "AGENTAUTH_ISSUER: must be an absolute http or https URL"),
                (["AGENTAUTH_LOG_LEVEL": "loud"], nil, "AGENTAUTH_LOG_LEVEL: must be one of trace"),
                ([:], #"{"port": 0}"#, "agentauth.json: port: must be between 1 and 65535"),
                ([:], #"{"max-delegation-depth": "three"}"#, "agentauth.json: max-delegation-depth: must be a whole number"),
                ([:], #"{"prot": 8080}"#, "agentauth.json: prot: not a setting"),
                ([:], #"{"master-key": "x"}"#, "agentauth.json: master-key: not read from a config file"),
                ([:], #"[1, 2]"#, "agentauth.json: not a JSON object"),
                (["AGENTAUTH_TRUSTED_PROXY": "10.0.0.0/8, 10.0.0.0/99"], nil, "AGENTAUTH_TRUSTED_PROXY: 10.0.0.0/99: not an IPv4 or IPv6 address"),
                ([:], #"{"trusted-proxy": "proxy.local"}"#, "agentauth.json: trusted-proxy: proxy.local: not an IPv4 or IPv6 address"),
                (["AGENTAUTH_TLS_CERT": "cert.pem"], nil, "--tls-cert and --tls-key must be given together"),
                ([:], #"{"shutdown-grace": 60}"#, "agentauth.json: shutdown-grace: must be between 0 and 15 seconds"),
                ([:], #"{"audit-retention": 0}"#, "agentauth.json: audit-retention: must be between 1 and 36500 days"),
            ] as [([String: String], String?, String)]
        )
        func wrongValues(_ environment: [String: String], _ file: String?, _ message: String) async throws {
            try await withTemporaryDirectory { directory in
                let arguments = try file.map { ["--config", try Self.write($0, to: directory)] } ?? []
                let refused = try await Binaries.agentauth(["serve"] + arguments, in: directory, environment: environment)
                #expect(refused.status != 0)
                #expect(refused.stderr.contains(message), "\(refused.stderr)")
                #expect(refused.stderr.split(separator: "\n").count == 1, "one line:\n\(refused.stderr)")
                #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("agentauth.sqlite").path), "nothing was created")
            }
        }

        @Test("a list setting: repeated flags beat one comma-separated AGENTAUTH_TRUSTED_PROXY")
        func listSetting() async throws {
            try await withTemporaryDirectory { directory in
                let environment = ["AGENTAUTH_TRUSTED_PROXY": "10.0.0.0/8, 192.168.0.0/16"]
                let env = try Self.shown(try await Binaries.agentauth(["config", "show", "--json"], in: directory, environment: environment))
                #expect(env["trusted-proxy"]?.value == "10.0.0.0/8, 192.168.0.0/16" && env["trusted-proxy"]?.source == "env")
                let flags = try Self.shown(
                    try await Binaries.agentauth(
                        ["config", "show", "--json", "--trusted-proxy", "127.0.0.1", "--trusted-proxy", "::1"],
                        in: directory,
                        environment: environment
                    )
                )
                #expect(flags["trusted-proxy"]?.value == "127.0.0.1,::1" && flags["trusted-proxy"]?.source == "flag")
            }
        }

        @Test("--version prints the version")
        func version() async throws {
            try await withTemporaryDirectory { directory in
                let result = try await Binaries.agentauth(["--version"], in: directory)
                #expect(result.status == 0)
                #expect(
                    result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).wholeMatch(of: /[0-9]+\.[0-9]+\.[0-9]+/) != nil,
                    "\(result.stdout)"
                )
            }
        }
    }
}
