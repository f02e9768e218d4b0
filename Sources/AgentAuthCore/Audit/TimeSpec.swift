public import Foundation

/// Parses the `since` of audit queries: ISO 8601, Unix seconds, or a duration back from now
/// (`90s`, `15m`, `1h`, `2d`).
public enum TimeSpec {
    public static func date(_ text: String, now: Date) -> Date? {
        if let seconds = Double(text), seconds.isFinite, seconds >= 0 { return Date(timeIntervalSince1970: seconds) }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        guard let unit = text.last, let amount = Double(text.dropLast()), amount.isFinite, amount >= 0 else { return nil }
        let multiplier: Double
        switch unit {
        case "s": multiplier = 1
        case "m": multiplier = 60
        case "h": multiplier = 3600
        case "d": multiplier = 86_400
        default: return nil
        }
        return now.addingTimeInterval(-amount * multiplier)
    }
}
