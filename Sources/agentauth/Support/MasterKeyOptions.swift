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
        guard FileManager.default.createFile(atPath: path, contents: Data((base64 + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CLIError("cannot write the master key file \(path)")
        }
        return key
    }
}
