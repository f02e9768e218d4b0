public import NIOCore

/// How many connections a server keeps open at once and how long a client may take to send a
/// request: what stops a client (or many) from holding the server's descriptors or connections
/// with requests it never finishes (SECURITY-CASES 59).
public struct ConnectionLimits: Sendable {
    /// Default time for a complete request head (request line and headers): nginx's
    /// `client_header_timeout` is 60 s; 20 s is ample for any real client on a slow link and
    /// frees a slot held by a slow sender three times sooner.
    public static let defaultRequestHeadTimeout = TimeAmount.seconds(20)
    /// Default time for a complete request body, from the end of its head. Bodies here are
    /// small (forms and JSON, at most a megabyte), so one bound for the whole body.
    public static let defaultRequestBodyTimeout = TimeAmount.seconds(30)
    /// Default time a kept-alive connection may wait for its next request (Hummingbird's idle timeout).
    public static let defaultIdleTimeout = TimeAmount.seconds(75)
    /// Connections past the cap that may be accepted and awaiting their close at once (see
    /// `ApplicationConfiguration.agentAuth`); a part of `DescriptorLimit.reserve`.
    public static let acceptHeadroom = 32

    /// Connections open at once; connections past it are closed as they are accepted. `nil`:
    /// `DescriptorLimit.defaultMaxConnections()`, the descriptor limit when the server is built
    /// less a reserve for the process itself.
    public var maxConnections: Int?
    /// From the moment a connection is accepted, or the first byte of a later request on it,
    /// until its request head is complete.
    public var requestHeadTimeout: TimeAmount
    /// From the end of a request's head until the end of its body.
    public var requestBodyTimeout: TimeAmount
    /// Between requests on a kept-alive connection.
    public var idleTimeout: TimeAmount

    public init(
        maxConnections: Int? = nil,
        requestHeadTimeout: TimeAmount = Self.defaultRequestHeadTimeout,
        requestBodyTimeout: TimeAmount = Self.defaultRequestBodyTimeout,
        idleTimeout: TimeAmount = Self.defaultIdleTimeout
    ) {
        self.maxConnections = maxConnections
        self.requestHeadTimeout = requestHeadTimeout
        self.requestBodyTimeout = requestBodyTimeout
        self.idleTimeout = idleTimeout
    }

    /// The cap in force: the one given, else the default derived from the descriptor limit.
    public var effectiveMaxConnections: Int {
        maxConnections ?? DescriptorLimit.defaultMaxConnections()
    }
}
