import CoreMetrics
import Synchronization

/// The per-request metric handles, made once per label set and kept: making a `Counter` or
/// `Timer` looks its series up in the Prometheus registry (a lock, the label set hashed and
/// compared) on every call. Label values are bounded (route templates, status codes, fixed
/// method and result names), so the table is too.
final class MetricHandles: Sendable {
    struct RequestSeries: Sendable {
        let count: Counter
        let duration: Timer
    }

    /// Keys of two parts, so that finding a series joins no strings.
    struct RequestKey: Hashable {
        let route: String
        let status: Int
    }

    struct VerificationKey: Hashable {
        let method: String
        let result: String
    }

    private let requests = Mutex<[RequestKey: RequestSeries]>([:])
    private let verifications = Mutex<[VerificationKey: Counter]>([:])

    func request(route: String, status: Int, make: () -> RequestSeries) -> RequestSeries {
        let key = RequestKey(route: route, status: status)
        return requests.withLock { table in
            if let series = table[key] { return series }
            let series = make()
            table[key] = series
            return series
        }
    }

    func verification(method: String, result: String, make: () -> Counter) -> Counter {
        let key = VerificationKey(method: method, result: result)
        return verifications.withLock { table in
            if let counter = table[key] { return counter }
            let counter = make()
            table[key] = counter
            return counter
        }
    }
}
