import AgentAuthCore
import ArgumentParser
import Foundation

/// Where the master key comes from: `AGENTAUTH_MASTER_KEY` (base64 of 32 bytes), else the key
/// file (`--master-key-file`, default `agentauth.key` beside the SQLite database).
struct MasterKeyOptions: ParsableArguments {
    @Option(help: "Master key file (default: agentauth.key beside the SQLite database). AGENTAUTH_MASTER_KEY takes precedence.")
    var masterKeyFile: String?

    func path(for store: StoreOptions) -> String {
        if let masterKeyFile { return masterKeyFile }
        let location = store.location
        if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") { return "agentauth.key" }
        return URL(fileURLWithPath: location).deletingLastPathComponent().appendingPathComponent("agentauth.key").path
    }

    /// The master key; with `create`, a missing key file is created (mode 0600) with a new key.
    func load(for store: StoreOptions, create: Bool) throws -> MasterKey {
        if let value = ProcessInfo.processInfo.environment["AGENTAUTH_MASTER_KEY"], !value.isEmpty {
            do {
                return try MasterKey(base64: value)
            } catch {
                throw CLIError("AGENTAUTH_MASTER_KEY: \(error)")
            }
        }
        let path = path(for: store)
        if let contents = FileManager.default.contents(atPath: path) {
            do {
                return try MasterKey(base64: String(decoding: contents, as: UTF8.self))
            } catch {
                throw CLIError("\(path): \(error)")
            }
        }
        guard create else {
            throw CLIError("no master key: set AGENTAUTH_MASTER_KEY or pass --master-key-file (expected \(path))")
        }
        let (key, base64) = MasterKey.generate()
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: directory) else {
            throw CLIError("cannot write the master key file \(path): the folder \(directory) does not exist")
        }
        guard FileManager.default.createFile(atPath: path, contents: Data((base64 + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CLIError("cannot write the master key file \(path)")
        }
        return key
    }

    /// Refuses a master key that is not the one `store` was initialised with (one line naming
    /// where the key came from), before the command writes anything.
    func check(_ key: MasterKey, against opened: any AgentAuthStore, of store: StoreOptions) async throws {
        do {
            try await key.check(against: opened)
        } catch let error as MasterKeyError {
            throw CLIError("\(source(for: store)): \(error)")
        }
    }

    /// Where the key is read from, for messages.
    func source(for store: StoreOptions) -> String {
        if let value = ProcessInfo.processInfo.environment["AGENTAUTH_MASTER_KEY"], !value.isEmpty { return "AGENTAUTH_MASTER_KEY" }
        return path(for: store)
    }
}
