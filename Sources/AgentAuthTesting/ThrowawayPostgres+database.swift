import Foundation
import PostgresNIO

extension ThrowawayPostgres {
    /// A new, empty database on the test server (one per test, so tests never share tables);
    /// returns its URL.
    public static func newDatabase(prefix: String) async throws -> String {
        let base = try await baseURL()
        guard let components = URLComponents(string: base), let host = components.host, let user = components.user else {
            throw Failure("bad test URL")
        }
        let name = prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let client = PostgresClient(
            configuration: .init(
                host: host,
                port: components.port ?? 5432,
                username: user,
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
}
