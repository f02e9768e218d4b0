/// The samples of a Prometheus text exposition (`GET /metrics`), parsed for tests that count.
public struct PrometheusSamples: Sendable {
    public struct Sample: Sendable {
        public let name: String
        public let labels: [String: String]
        public let value: Double
    }

    public let samples: [Sample]

    /// Parses every sample line; throws on a line that is not one (so a malformed exposition fails the test).
    public init(parsing text: String) throws {
        var samples: [Sample] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.isEmpty {
            samples.append(try Self.sample(Substring(line)))
        }
        self.samples = samples
    }

    /// The sum of the samples named `name` that carry at least `labels`; 0 when there are none
    /// (a counter not yet incremented is not exposed).
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double {
        samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }.reduce(0) { $0 + $1.value }
    }

    /// Whether any sample is named `name`.
    public func contains(_ name: String) -> Bool { samples.contains { $0.name == name } }

    /// Every label value of every sample.
    public var labelValues: [String] { samples.flatMap { $0.labels.values } }

    static func sample(_ line: Substring) throws -> Sample {
        guard let nameEnd = line.firstIndex(where: { $0 == "{" || $0 == " " }) else { throw TestFailure("not a sample: \(line)") }
        let name = String(line[..<nameEnd])
        var labels: [String: String] = [:]
        var rest = line[nameEnd...]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                guard let equals = rest.firstIndex(of: "="), rest[rest.index(after: equals)...].first == "\"" else {
                    throw TestFailure("bad labels: \(line)")
                }
                let key = String(rest[..<equals])
                rest = rest[rest.index(equals, offsetBy: 2)...]
                var value = ""
                while let character = rest.first, character != "\"" {
                    rest = rest.dropFirst()
                    if character == "\\", let escaped = rest.first {
                        rest = rest.dropFirst()
                        value.append(escaped == "n" ? "\n" : escaped)
                    } else {
                        value.append(character)
                    }
                }
                guard rest.first == "\"" else { throw TestFailure("unterminated label value: \(line)") }
                rest = rest.dropFirst()
                labels[key] = value
                if rest.first == "," { rest = rest.dropFirst() }
                guard !rest.isEmpty else { throw TestFailure("unterminated labels: \(line)") }
            }
            rest = rest.dropFirst()
        }
        let fields = rest.split(separator: " ")
        guard let first = fields.first, let value = Double(first) ?? (first == "+Inf" ? .infinity : nil) else {
            throw TestFailure("no value: \(line)")
        }
        return Sample(name: name, labels: labels, value: value)
    }
}
