import Configuration
import Foundation
import Synchronization
import SystemPackage

extension Array {
    /// Resolves every setting through one `ConfigReader`: the flags given, then the
    /// `AGENTAUTH_…` environment, then the config file. A value that is malformed or out of
    /// range, wherever it comes from, is a `CLIError` of one line naming its origin.
    func resolve<Command>(
        _ command: Command,
        configFile: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> EffectiveConfiguration where Element == Setting<Command> {
        var flags: [AbsoluteConfigKey: ConfigValue] = [:]
        for setting in self {
            if let value = setting.flagValue(command) { flags[setting.key] = ConfigValue(value, isSecret: setting.isSecret) }
        }
        let secretVariables = Set(filter(\.isSecret).map(\.environmentVariable))
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "flags", values: flags),
            EnvironmentVariablesProvider(environmentVariables: environment, secretsSpecifier: .specific(secretVariables))
                .prefixKeys(with: ["agentauth"]),
        ]
        if let configFile {
            providers.append(try await Self.fileProvider(configFile, known: Set(map(\.name))))
        }
        let recorder = AccessRecorder()
        let reader = ConfigReader(providers: providers, accessReporter: recorder)
        var entries: [EffectiveConfiguration.Entry] = []
        for setting in self {
            let value: ConfigContent? =
                switch setting.kind {
                case .int: reader.int(forKey: ConfigKey([setting.name]), isSecret: setting.isSecret).map(ConfigContent.int)
                case .string: reader.string(forKey: ConfigKey([setting.name]), isSecret: setting.isSecret).map(ConfigContent.string)
                }
            let event = recorder.last
            // The reader stops at the first provider that has the key: that one answered (or failed).
            let answered = event.map { $0.providerResults.count - 1 } ?? -1
            let source: SettingSource = value == nil ? .default : [.flag, .env, .file][answered]
            let origin = Self.origin(of: setting, source: source, configFile: configFile)
            if let event, event.conversionError != nil || event.providerResults.contains(where: { (try? $0.result.get()) == nil }) {
                let failed = [SettingSource.flag, .env, .file][Swift.max(0, answered)]
                let kind = setting.kind == .int ? "a whole number" : "text"
                throw CLIError(Self.message(Self.origin(of: setting, source: failed, configFile: configFile), "must be \(kind)"))
            }
            if source == .file, !setting.readsFile {
                throw CLIError("\(origin): not read from a config file; use \(setting.environmentVariable)")
            }
            guard let effective = value ?? setting.defaultValue else {
                entries.append(
                    .init(name: setting.name, value: nil, source: .default, origin: origin, isSecret: setting.isSecret, display: setting.display)
                )
                continue
            }
            if let problem = setting.problem(effective) { throw CLIError(Self.message(origin, problem)) }
            entries.append(
                .init(name: setting.name, value: effective, source: source, origin: origin, isSecret: setting.isSecret, display: setting.display)
            )
        }
        return EffectiveConfiguration(entries: entries)
    }

    /// `--port must …` as ArgumentParser words a flag's problem; `AGENTAUTH_PORT: must …` otherwise.
    static func message(_ origin: String, _ problem: String) -> String {
        origin.hasPrefix("--") ? "\(origin) \(problem)" : "\(origin): \(problem)"
    }

    static func origin<Command>(of setting: Setting<Command>, source: SettingSource, configFile: String?) -> String {
        switch source {
        case .flag: setting.flag
        case .env: setting.environmentVariable
        case .file: "\(configFile ?? "config file"): \(setting.name)"
        case .default: "default"
        }
    }

    /// The JSON config file; a key no setting has is refused, so a typo is not silently ignored.
    static func fileProvider(_ path: String, known: Set<String>) async throws -> FileProvider<JSONSnapshot> {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("--config \(path): no such file, or not readable") }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw CLIError("--config \(path): not a JSON object")
        }
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw CLIError("\(path): \(unknown): not a setting (see `agentauth config show`)")
        }
        do {
            return try await FileProvider<JSONSnapshot>(filePath: FilePath(path))
        } catch {
            throw CLIError("--config \(path): \(error)")
        }
    }
}

/// Keeps the last access event, so the resolver learns which provider answered each key.
final class AccessRecorder: AccessReporter {
    private let event = Mutex<AccessEvent?>(nil)

    var last: AccessEvent? { event.withLock { $0 } }

    func report(_ event: AccessEvent) {
        self.event.withLock { $0 = event }
    }
}
