import PostgresNIO

extension PostgresClient.Configuration {
    /// The same server and login for one connection outside the pool (the start-up probe and
    /// the LISTEN connection).
    var singleConnection: PostgresConnection.Configuration {
        .init(host: host ?? "localhost", port: port ?? 5432, username: username, password: password, database: database, tls: .disable)
    }
}
