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

    /// Waits for the verifiers in `session`'s store.
    func waitForVerifiers(_ session: AdminSession) async -> RevocationPropagation {
        await RevocationConfirmation(store: session.store, timeout: .milliseconds(Int(confirmTimeout * 1000))).waitForVerifiers()
    }
}
