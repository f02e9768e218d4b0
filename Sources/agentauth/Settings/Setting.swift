import ArgumentParser
import Configuration
import Foundation

/// One setting of a command. Its name is its flag (`--name`), its key in the `--config` JSON
/// file (`name`) and, upper-cased with `_`, its environment variable (`AGENTAUTH_NAME`); the
/// first of these that is set wins, else the default. A command lists its settings once (see
/// `ServeCommand.settings`): adding one is an optional `@Option` plus one line there.
struct Setting<Command> {
    enum Kind { case string, int }

    let name: String
    let kind: Kind
    /// Shown as `<redacted>` by `config show`; never printed, whatever its source.
    let isSecret: Bool
    /// Whether the config file may set it (not for keys: config files get copied and committed).
    let readsFile: Bool
    let defaultValue: ConfigContent?
    /// What the command line gave, if anything.
    let flagValue: (Command) -> ConfigContent?
    /// Why a value is wrong ("must be …"), or nil.
    let problem: (ConfigContent) -> String?
    /// How `config show` prints a value that is not secret as a whole (a URL's password).
    let display: (String) -> String

    var flag: String { "--" + name }
    var environmentVariable: String { "AGENTAUTH_" + name.uppercased().replacingOccurrences(of: "-", with: "_") }
    var key: AbsoluteConfigKey { AbsoluteConfigKey([name]) }

    static func int(
        _ name: String,
        _ flag: KeyPath<Command, Int?>?,
        default defaultValue: Int?,
        in range: ClosedRange<Int>? = nil,
        unit: String = ""
    ) -> Setting {
        Setting(
            name: name,
            kind: .int,
            isSecret: false,
            readsFile: true,
            defaultValue: defaultValue.map(ConfigContent.int),
            flagValue: { command in flag.flatMap { command[keyPath: $0] }.map(ConfigContent.int) },
            problem: { content in
                guard let range, case .int(let value) = content, !range.contains(value) else { return nil }
                return "must be between \(range.lowerBound) and \(range.upperBound)\(unit)"
            },
            display: { $0 }
        )
    }

    static func string(
        _ name: String,
        _ flag: KeyPath<Command, String?>?,
        default defaultValue: String?,
        secret: Bool = false,
        readsFile: Bool = true,
        problem: @escaping (String) -> String? = { _ in nil },
        display: @escaping (String) -> String = { $0 }
    ) -> Setting {
        Setting(
            name: name,
            kind: .string,
            isSecret: secret,
            readsFile: readsFile,
            defaultValue: defaultValue.map(ConfigContent.string),
            flagValue: { command in flag.flatMap { command[keyPath: $0] }.map(ConfigContent.string) },
            problem: { content in
                guard case .string(let value) = content else { return nil }
                return problem(value)
            },
            display: display
        )
    }

    /// A list: a repeatable flag, or one comma-separated value in the environment or the file
    /// (`AGENTAUTH_TRUSTED_PROXY=10.0.0.0/8,192.168.0.0/16`).
    static func list(_ name: String, _ flag: KeyPath<Command, [String]>) -> Setting {
        Setting.string(name, nil, default: nil).withFlag { command in
            let values = command[keyPath: flag]
            return values.isEmpty ? nil : .string(values.joined(separator: ","))
        }
    }

    /// A setting whose flag parses into `Value` (an enum of its allowed spellings).
    static func choice<Value: ExpressibleByArgument & RawRepresentable<String>>(
        _ name: String,
        _ flag: KeyPath<Command, Value?>,
        default defaultValue: Value
    ) -> Setting {
        .string(name, nil, default: defaultValue.rawValue) { value -> String? in
            Value(argument: value) == nil ? "must be one of \(Value.allValueStrings.joined(separator: ", "))" : nil
        }
        .withFlag { command in command[keyPath: flag].map { .string($0.rawValue) } }
    }

    private func withFlag(_ flagValue: @escaping (Command) -> ConfigContent?) -> Setting {
        Setting(
            name: name,
            kind: kind,
            isSecret: isSecret,
            readsFile: readsFile,
            defaultValue: defaultValue,
            flagValue: flagValue,
            problem: problem,
            display: display
        )
    }
}
