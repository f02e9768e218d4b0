import Configuration

/// The resolved settings of a command: each value and where it came from.
struct EffectiveConfiguration {
    struct Entry {
        let name: String
        let value: ConfigContent?
        let source: SettingSource
        /// The flag, variable or `FILE: key` that gave the value, for messages.
        let origin: String
        let isSecret: Bool
        let display: (String) -> String

        /// The value as `config show` prints it: secrets redacted, URLs without their password.
        var shown: String? {
            guard let value else { return nil }
            if isSecret { return "<redacted>" }
            switch value {
            case .int(let number): return String(number)
            case .string(let text): return display(text)
            default: return "\(value)"
            }
        }
    }

    let entries: [Entry]

    func string(_ name: String) -> String? {
        guard case .string(let value)? = entries.first(where: { $0.name == name })?.value else { return nil }
        return value
    }

    /// An int setting; every one has a default or a flag-only `nil`.
    func int(_ name: String) -> Int? {
        guard case .int(let value)? = entries.first(where: { $0.name == name })?.value else { return nil }
        return value
    }

    /// A list setting's items (`Setting.list`): split at commas and blanks.
    func list(_ name: String) -> [String] {
        (string(name) ?? "").split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
    }

    func origin(_ name: String) -> String {
        entries.first { $0.name == name }?.origin ?? name
    }
}
