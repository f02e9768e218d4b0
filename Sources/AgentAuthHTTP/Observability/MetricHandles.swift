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

    private let requests = Table<RequestKey, RequestSeries>()
    private let verifications = Table<VerificationKey, Counter>()

    func request(route: String, status: Int, make: () -> RequestSeries) -> RequestSeries {
        requests.value(for: RequestKey(route: route, status: status), make: make)
    }

    func verification(method: String, result: String, make: () -> Counter) -> Counter {
        verifications.value(for: VerificationKey(method: method, result: result), make: make)
    }

    /// Handles by label set, each made the first time it is asked for.
    final class Table<Key: Hashable & Sendable, Value: Sendable>: Sendable {
        private let handles = Mutex<[Key: Value]>([:])

        func value(for key: Key, make: () -> Value) -> Value {
            handles.withLock { table in
                if let value = table[key] { return value }
                let value = make()
                table[key] = value
                return value
            }
        }
    }
}
