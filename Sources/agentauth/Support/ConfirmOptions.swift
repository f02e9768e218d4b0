import AgentAuthCore
import ArgumentParser

/// How long a revoking command waits for the verifiers to acknowledge its change, as the admin
/// API does (`--revocation-confirm-timeout` of `serve`); the running servers bring the change to
/// their verifiers, and their acknowledgements reach the command through the store.
struct ConfirmOptions: ParsableArguments {
    @Option(help: "Seconds to wait for every live verifier to acknowledge the change (0: don't wait).")
    var confirmTimeout: Double = 2

    func validate() throws {
        guard (0...60).contains(confirmTimeout) else { throw ValidationError("--confirm-timeout must be between 0 and 60 seconds") }
    }

    /// Makes `body`'s change in an admin session of `options`, then waits for the verifiers to
    /// acknowledge it; the change's result and how far it got.
    func change<T>(_ options: ChangeOptions, _ body: (AdminSession) async throws -> T) async throws -> (T, RevocationPropagation) {
        try await options.change { session in
            let result = try await body(session)
            let timeout = Duration.milliseconds(Int(confirmTimeout * 1000))
            return (result, await RevocationConfirmation(store: session.store, timeout: timeout).waitForVerifiers())
        }
    }
}
