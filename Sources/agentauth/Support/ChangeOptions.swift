import AgentAuthCore
import ArgumentParser

/// The options of a command that changes the database: where it is (`--database`), the master
/// key its audit events are chained with (`--master-key-file`), and how to print (`--json`).
struct ChangeOptions: ParsableArguments {
    @OptionGroup var store: StoreOptions
    @OptionGroup var masterKey: MasterKeyOptions
    @OptionGroup var output: OutputOptions

    /// Runs `body` in an admin session: one store, opened for it and closed after, with the
    /// master key checked against it before anything is written.
    func change<T>(_ body: (AdminSession) async throws -> T) async throws -> T {
        try await AdminSession.with(store, masterKey, body)
    }
}

/// The options of a command that only reads the database: where it is and how to print.
struct ReadOptions: ParsableArguments {
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    /// Runs `body` on one store, opened for it and closed after.
    func read<T>(_ body: (any AgentAuthStore) async throws -> T) async throws -> T {
        try await store.withStore(body)
    }
}
