import NIOCore

extension ConnectionLimits {
    /// The limits a server's command line asks for (`--max-connections`, `--request-head-timeout`,
    /// `--request-body-timeout`), after raising the soft descriptor limit to the hard one so the
    /// default cap is derived from all the descriptors the process may have. Throws one line
    /// saying what is wrong.
    public static func raisingDescriptorLimit(
        maxConnections: Int?,
        requestHeadTimeoutSeconds: Int,
        requestBodyTimeoutSeconds: Int
    ) throws(InvalidConnectionLimits) -> ConnectionLimits {
        // A head deadline past a minute would let a slow sender hold a connection as long as the idle timeout did.
        guard (1...60).contains(requestHeadTimeoutSeconds) else {
            throw InvalidConnectionLimits("--request-head-timeout must be between 1 and 60 seconds")
        }
        guard (1...600).contains(requestBodyTimeoutSeconds) else {
            throw InvalidConnectionLimits("--request-body-timeout must be between 1 and 600 seconds")
        }
        let limit = DescriptorLimit.raiseSoftLimitToHardLimit()
        if let maxConnections {
            if let problem = DescriptorLimit.problem(maxConnections: maxConnections, limit: limit) { throw InvalidConnectionLimits(problem) }
        } else if DescriptorLimit.defaultMaxConnections(limit: limit) < 1 {
            throw InvalidConnectionLimits(
                "the file-descriptor limit (\(limit), ulimit -n) leaves no room for connections beside the \(DescriptorLimit.reserve) the server keeps for itself"
            )
        }
        return ConnectionLimits(
            maxConnections: maxConnections ?? DescriptorLimit.defaultMaxConnections(limit: limit),
            requestHeadTimeout: .seconds(Int64(requestHeadTimeoutSeconds)),
            requestBodyTimeout: .seconds(Int64(requestBodyTimeoutSeconds))
        )
    }
}

/// A connection limit a server cannot run with, said in one line.
public struct InvalidConnectionLimits: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
