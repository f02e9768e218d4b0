import AgentAuthStoreConformance
import Foundation
import NIOHTTP1
import PostgresNIO
import Testing

/// `agentauth` on PostgreSQL: `--database postgres://…` end to end.
@Suite("agentauth on PostgreSQL", .serialized)
struct PostgresCLITests {
    static func database() async throws -> String {
        let base = try await Task.detached { try ThrowawayPostgres.baseURL() }.value
        let name = "agentauth_cli_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let components = try #require(URLComponents(string: base))
        let client = PostgresClient(
            configuration: .init(
                host: try #require(components.host),
                port: components.port ?? 5432,
                username: try #require(components.user),
                password: components.password,
                database: "postgres",
                tls: .disable
            ),
            backgroundLogger: .init(label: "test")
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        }
        return base + "/" + name
    }

    @Test("init, admin commands, serve and a token on a PostgreSQL database")
    func endToEnd() async throws {
        let url = try await Self.database()
        try await withTemporaryDirectory { directory in
            let initialized = try await Binaries.agentauth(["init", "--json", "--database", url], in: directory)
            #expect(initialized.status == 0, "\(initialized.stderr)")
            #expect(
                FileManager.default.fileExists(atPath: directory.appendingPathComponent("agentauth.key").path),
                "the key file is made in the current directory"
            )
            let again = try await Binaries.agentauth(["init", "--database", url], in: directory)
            #expect(again.status == 1)
            let agent = try #require(
                try await Binaries.agentauth(["agents", "create", "pg-agent", "--json", "--database", url], in: directory).json["id"] as? String
            )
            let client = try await Binaries.agentauth(["clients", "create", agent, "--scope", "a", "--json", "--database", url], in: directory)
            let clientID = try #require(client.json["client_id"] as? String)
            let secret = try #require(client.json["client_secret"] as? String)

            let port = try Binaries.freePort()
            let server = try RunningProcess("agentauth", ["serve", "--database", url, "--port", "\(port)"], in: directory)
            defer { server.stop() }
            try await server.waitForOutput("AgentAuth listening")
            let base = "http://127.0.0.1:\(port)"
            try await WalkthroughTests.waitUntilHealthy(base)
            #expect(try await HTTP.send(.GET, "\(base)/readyz").status == 200)
            let basic = "Basic " + Data("\(clientID):\(secret)".utf8).base64EncodedString()
            let token = try await HTTP.send(
                .POST,
                "\(base)/oauth/token",
                headers: [("Authorization", basic), ("Content-Type", "application/x-www-form-urlencoded")],
                body: "grant_type=client_credentials"
            )
            #expect(token.status == 200, "\(token.body)")
            let audit = try await Binaries.agentauth(["audit", "verify", "--database", url], in: directory)
            #expect(audit.status == 0, "\(audit.stderr)")
        }
    }
}
