#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's file-descriptor limit (`RLIMIT_NOFILE`), and how many connections it leaves room for.
///
/// Every connection is a descriptor, and so is everything else the process opens: SQLite's
/// database, WAL and shared-memory files per connection, outbound HTTP connections, event-loop
/// descriptors, and the `/proc/<tid>/stat` files libdispatch opens to watch its thread pool
/// (which it treats as fatal when it cannot: a descriptor-exhausted server died with SIGILL).
/// So connections are capped below the limit, and `reserve` descriptors stay for the process itself.
public enum DescriptorLimit {
    /// Descriptors kept out of reach of connections. A server at rest holds about 30 (event
    /// loops, the listening socket, SQLite's pools, standard streams); over-the-cap
    /// connections awaiting their close take at most `ConnectionLimits.acceptHeadroom` (32);
    /// the rest covers pool growth, outbound connections and /proc reads.
    public static let reserve = 128

    /// The soft limit now in force.
    public static var current: Int {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return 1024 }
        return clamp(limit.rlim_cur)
    }

    /// Raises the soft limit to the hard one (the usual soft default, 1024, is far below what
    /// the system allows a server) and returns the soft limit in force afterwards.
    @discardableResult
    public static func raiseSoftLimitToHardLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return current }
        #if canImport(Darwin)
        // Darwin refuses a soft limit above OPEN_MAX even when the hard limit is unlimited.
        let target = min(limit.rlim_max, rlim_t(OPEN_MAX))
        #else
        let target = limit.rlim_max
        #endif
        if limit.rlim_cur < target {
            limit.rlim_cur = target
            _ = setrlimit(resource, &limit)
        }
        return current
    }

    /// The connection cap a server gets unless told otherwise: the limit less the reserve.
    public static func defaultMaxConnections(limit: Int = current) -> Int {
        max(0, limit - reserve)
    }

    /// Why `maxConnections` cannot work under `limit`, or nil when it can.
    public static func problem(maxConnections: Int, limit: Int = current) -> String? {
        guard maxConnections >= 1 else { return "--max-connections must be at least 1" }
        guard maxConnections <= defaultMaxConnections(limit: limit) else {
            return
                "--max-connections \(maxConnections) leaves fewer than \(reserve) of the \(limit) file descriptors (ulimit -n) for the server itself; lower it or raise the limit"
        }
        return nil
    }

    #if canImport(Glibc)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif

    private static func clamp(_ value: rlim_t) -> Int {
        value >= rlim_t(Int.max) ? Int.max : Int(value)
    }
}
