import Foundation
import Logging
public import PostgresNIO

extension ThrowawayPostgres {
    /// A new, empty database on the test server (one per test, so tests never share tables);
    /// returns its URL.
    public static func newDatabase(prefix: String) async throws -> String {
        let base = try await baseURL()
        let name = prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await withConnection(to: base, database: "postgres") { connection in
            _ = try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: Logger(label: "test"))
        }
        return base + "/" + name
    }

    /// Runs `body` on one connection to the server of `url`, as an operator's session beside the
    /// store's own: to the database the URL names, or to `database` instead.
    public static func withConnection<T>(
        to url: String,
        database: String? = nil,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        guard let components = URLComponents(string: url), let host = components.host, let user = components.user else {
            throw Failure("bad test URL")
        }
        let connection = try await PostgresConnection.connect(
            configuration: .init(
                host: host,
                port: components.port ?? 5432,
                username: user,
                password: components.password,
                database: database ?? String(components.path.dropFirst()),
                tls: .disable
            ),
            id: 99,
            logger: Logger(label: "test")
        )
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
