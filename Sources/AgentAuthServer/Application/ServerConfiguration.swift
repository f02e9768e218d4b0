/// How `agentauth serve` (or a test) runs the server.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// How often collected last-used times are written to the store.
    public var usageFlushInterval: Duration
    public var serverName: String

    public init(host: String = "127.0.0.1", port: Int = 8080, usageFlushInterval: Duration = .seconds(5), serverName: String = "agentauth") {
        self.host = host
        self.port = port
        self.usageFlushInterval = usageFlushInterval
        self.serverName = serverName
    }
}
