public import Foundation

/// A budget of requests per calendar period (UTC), counted across every resource server and
/// node: what a credit balance is to a paid API.
public struct Quota: Hashable, Sendable, Codable {
    public enum Period: String, CaseIterable, Hashable, Sendable, Codable {
        case hour
        case day
        case month

        /// The start of the period holding `date`, in UTC.
        public func start(of date: Date) -> Date {
            let calendar = Self.utc
            switch self {
            case .hour: return calendar.dateInterval(of: .hour, for: date)!.start
            case .day: return calendar.startOfDay(for: date)
            case .month: return calendar.dateInterval(of: .month, for: date)!.start
            }
        }

        /// The end of the period holding `date` (the next one's start), in UTC.
        public func end(of date: Date) -> Date {
            let calendar = Self.utc
            switch self {
            case .hour: return calendar.dateInterval(of: .hour, for: date)!.end
            case .day: return calendar.dateInterval(of: .day, for: date)!.end
            case .month: return calendar.dateInterval(of: .month, for: date)!.end
            }
        }

        static let utc: Calendar = {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            return calendar
        }()
    }

    public var requests: Int
    public var period: Period

    public init(requests: Int, period: Period) {
        self.requests = requests
        self.period = period
    }

    public static let maxRequests = 1_000_000_000_000
}
